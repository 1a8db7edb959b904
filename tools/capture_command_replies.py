#!/usr/bin/env python3
"""Records the reference's COMMAND replies as expected bytes for Shoal's renderer.

Usage: tools/capture_command_replies.py [--out PATH] [--check RENDERER] [--full]

For each case (a COMMAND call, in RESP2 and RESP3) it asks a reference redis-server
and stores the reply bytes in crates/commands/src/table/testdata/command_replies.txt,
which the unit tests of crates/commands/src/introspect.rs replay against our renderer.

Two differences are by design and are applied to the reference's reply before it is
stored, so that everything else is compared byte for byte:
  * prose is ours: command summaries (table/summaries.rs), key-spec notes and
    complexities (as tools/gen_command_table.py writes them), history descriptions
    (empty);
  * order: Redis lists commands in hash-table order, which changes between runs;
    Shoal sorts commands and subcommands by name.

--check RENDERER runs a program that reads "proto<TAB>hex-args" lines and prints the
hex of its reply, and compares (--full adds COMMAND, COMMAND INFO and COMMAND DOCS of
every command).

File format: one case per line, "proto<TAB>args<TAB>reply", args separated by single
spaces ('' is an empty argument), reply escaped (\\r, \\n, \\t, \\\\, \\xHH).
"""

import argparse
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from resp_min import RefServer, RespError, RespSet, Simple  # noqa: E402
import gen_command_table as gen  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "crates", "commands", "src", "table", "testdata",
                   "command_replies.txt")
SUMMARIES = os.path.join(ROOT, "crates", "commands", "src", "table", "summaries.rs")

CASES = [
    "COMMAND COUNT",
    "COMMAND INFO get",
    "COMMAND INFO config",
    "COMMAND INFO sort",
    "COMMAND INFO xread zunionstore migrate",
    "COMMAND INFO eval set bitfield",
    "COMMAND INFO georadius spublish lcs",
    "COMMAND INFO object client",
    "COMMAND INFO nosuch GET Config|GET config|nosuch get|x",
    "COMMAND DOCS get",
    "COMMAND DOCS georadius",
    "COMMAND DOCS migrate psync",
    "COMMAND DOCS config",
    "COMMAND DOCS config|get nosuch GET",
    "COMMAND DOCS zadd xadd sort",
    "COMMAND DOCS client|kill acl restore",
    "COMMAND DOCS lpos set bitfield geosearch",
    "COMMAND DOCS xinfo object|encoding",
    "COMMAND DOCS nosuch",
    "COMMAND LIST",
    "COMMAND LIST FILTERBY PATTERN x*",
    "COMMAND LIST FILTERBY pattern CONFIG|G*",
    "COMMAND LIST FILTERBY ACLCAT hyperloglog",
    "COMMAND LIST FILTERBY aclcat HyperLogLog",
    "COMMAND LIST FILTERBY ACLCAT admin",
    "COMMAND LIST FILTERBY ACLCAT nosuch",
    "COMMAND LIST FILTERBY MODULE x",
    "COMMAND LIST FILTERBY",
    "COMMAND LIST FILTERBY PATTERN a b",
    "COMMAND LIST FILTERBY x y",
    "COMMAND GETKEYS mset a 1 b 2",
    "COMMAND GETKEYS object encoding k",
    "COMMAND GETKEYSANDFLAGS mset a 1 b 2",
    "COMMAND GETKEYSANDFLAGS zunionstore d 2 a b",
    "COMMAND GETKEYSANDFLAGS eval s 0",
    "COMMAND GETKEYSANDFLAGS sort k STORE d",
    "COMMAND GETKEYS ping x",
    "COMMAND GETKEYS nosuch x",
    "COMMAND GETKEYS get a b",
    "COMMAND GETKEYS zunionstore d 0 a",
    "COMMAND GETKEYS",
    "COMMAND COUNT x",
    "COMMAND foo",
]
FULL_CASES = ["COMMAND", "COMMAND INFO", "COMMAND DOCS"]


def our_summaries():
    text = open(SUMMARIES).read()
    return {m.group(1): m.group(2).replace('\\"', '"')
            for m in re.finditer(r'\(\s*"([^"]+)",\s*"((?:[^"\\]|\\.)*)",?\s*\)', text)}


SUMM = our_summaries()


def info_entry(e):
    if e is None:
        return None
    name = e[0].decode()
    specs = e[8]
    for i, ks in enumerate(specs):
        if b"notes" in ks:
            ks[b"notes"] = gen.NOTES[(name, i)].encode()
    subs = e[9]
    if subs:
        subs.sort(key=lambda x: x[0])
        for j, s in enumerate(subs):
            subs[j] = info_entry(s)
    return e


def docs_entry(name, d):
    d[b"summary"] = SUMM[name].encode()
    if b"complexity" in d:
        d[b"complexity"] = gen.big_o(name, d[b"complexity"]).encode()
    if b"history" in d:
        hist = RespSet()
        for version, _ in d[b"history"]:
            hist.append([version, b""])
        d[b"history"] = hist
    if b"subcommands" in d:
        d[b"subcommands"] = {k: docs_entry(k.decode(), v)
                             for k, v in sorted(d[b"subcommands"].items())}
    return d


def normalize(args, reply):
    if isinstance(reply, RespError):
        return reply
    up = [a.upper() for a in args]
    if up == ["COMMAND"] or up[:2] == ["COMMAND", "INFO"]:
        if len(args) <= 2:
            reply.sort(key=lambda x: x[0])
        return [info_entry(e) for e in reply]
    if up[:2] == ["COMMAND", "DOCS"]:
        items = reply.items()
        if len(args) == 2:
            items = sorted(items)
        # dicts drop repeated names; none of the cases repeats one
        return {k: docs_entry(k.decode(), v) for k, v in items}
    if up[:2] == ["COMMAND", "LIST"]:
        def key(n):
            n = n.decode()
            return (n.split("|")[0], "|" in n, n)
        return sorted(reply, key=key)
    return reply


def encode(v, proto):
    if isinstance(v, RespError):
        return b"-%s\r\n" % str(v).encode()
    if isinstance(v, Simple):
        return b"+%s\r\n" % v
    if isinstance(v, bytes):
        return b"$%d\r\n%s\r\n" % (len(v), v)
    if isinstance(v, bool):
        raise ValueError("no booleans expected")
    if isinstance(v, int):
        return b":%d\r\n" % v
    if v is None:
        return b"_\r\n" if proto == 3 else b"$-1\r\n"
    if isinstance(v, RespSet):
        head = b"~" if proto == 3 else b"*"
        return head + b"%d\r\n" % len(v) + b"".join(encode(x, proto) for x in v)
    if isinstance(v, list):
        return b"*%d\r\n" % len(v) + b"".join(encode(x, proto) for x in v)
    if isinstance(v, dict):
        head = b"%%%d\r\n" % len(v) if proto == 3 else b"*%d\r\n" % (2 * len(v))
        return head + b"".join(encode(k, proto) + encode(x, proto) for k, x in v.items())
    raise ValueError("cannot encode %r" % (v,))


def escape(b):
    out = []
    for ch in b:
        c = chr(ch)
        if c == "\\":
            out.append("\\\\")
        elif c == "\r":
            out.append("\\r")
        elif c == "\n":
            out.append("\\n")
        elif c == "\t":
            out.append("\\t")
        elif 0x20 <= ch < 0x7F:
            out.append(c)
        else:
            out.append("\\x%02x" % ch)
    return "".join(out)


def split_args(case):
    return [b"" if a == "''" else a.encode() for a in case.split(" ")]


def capture(cases):
    """[(proto, case, expected bytes)]"""
    out = []
    with RefServer() as ref:
        c2 = ref.conn()
        c3 = ref.conn()
        c3.call("HELLO", "3")
        for case in cases:
            args = split_args(case)
            raw3 = c3.call_raw(*args)
            raw2 = c2.call_raw(*args)
            parsed = c3.call(*args)
            # the re-encoder must reproduce the reference exactly before we edit it
            # (full listings excepted: their order changes between calls)
            if case not in FULL_CASES:
                assert encode(parsed, 3) == raw3, case
                assert encode(parsed, 2) == raw2, case
            norm = normalize([a.decode() for a in args], parsed)
            out.append((2, case, encode(norm, 2)))
            out.append((3, case, encode(norm, 3)))
    return out


def check(renderer, results):
    lines = []
    for proto, case, _ in results:
        hexargs = " ".join(a.hex() if a else "-" for a in split_args(case))
        lines.append("%d\t%s" % (proto, hexargs))
    res = subprocess.run([renderer], input=("\n".join(lines) + "\n").encode(),
                         capture_output=True, check=True).stdout.decode().split("\n")
    bad = 0
    for (proto, case, exp), got in zip(results, res):
        got = bytes.fromhex(got)
        if got != exp:
            bad += 1
            i = next((i for i in range(min(len(got), len(exp))) if got[i] != exp[i]),
                     min(len(got), len(exp)))
            print("MISMATCH RESP%d %s at byte %d\n  ref : %r\n  ours: %r"
                  % (proto, case, i, exp[max(0, i - 200):i + 200], got[max(0, i - 200):i + 200]))
    print("%d replies compared, %d mismatches" % (len(results), bad))
    return bad == 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=OUT)
    ap.add_argument("--check")
    ap.add_argument("--full", action="store_true")
    opts = ap.parse_args()
    cases = CASES + (FULL_CASES if opts.full else [])
    results = capture(cases)
    if opts.check:
        sys.exit(0 if check(opts.check, results) else 1)
    os.makedirs(os.path.dirname(opts.out), exist_ok=True)
    with open(opts.out, "w") as f:
        for proto, case, exp in results:
            f.write("%d\t%s\t%s\n" % (proto, case, escape(exp)))
    print("wrote %d replies to %s" % (len(results), opts.out))


if __name__ == "__main__":
    main()
