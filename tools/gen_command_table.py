#!/usr/bin/env python3
"""Generates crates/commands/src/table/data.rs from a reference redis-server.

Usage: tools/gen_command_table.py [--server /usr/bin/redis-server] [--out PATH]

It starts the reference server on a free loopback port (never 6379, no persistence),
asks `COMMAND INFO` and `COMMAND DOCS` over raw RESP3, and writes one builder chain
per command (see crates/commands/src/table/build.rs), sorted by name, subcommands
sorted too, then runs rustfmt on the result.

Only facts are taken: names, arity, flags, key positions, key specs, ACL categories,
tips, versions, groups, argument structure. Redis's prose is not copied: summaries,
key-spec notes, history descriptions and argument summaries are emitted empty (our
own summaries live in table/summaries.rs), and complexity strings are cut down to
their big-O formula.
"""

import argparse
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from resp_min import RefServer  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUT = os.path.join(ROOT, "crates", "commands", "src", "table", "data.rs")

# Complexities that do not start with a big-O formula: our own short wording.
COMPLEXITY_OVERRIDES = {
    "exec": "Depends on the queued commands",
    "memory|doctor": "Depends on memory usage",
    "command|docs": "O(N)",
    "eval": "Depends on the script",
    "eval_ro": "Depends on the script",
    "evalsha": "Depends on the script",
    "evalsha_ro": "Depends on the script",
    "fcall": "Depends on the function",
    "fcall_ro": "Depends on the function",
    "migrate": "O(N)",
    "xread": "O(M) per stream",
    "xreadgroup": "O(M) per stream",
    "srandmember": "O(1), O(N) with count",
    "spop": "O(1), O(N) with count",
}

# Key-spec notes in our own words, for the specs the reference annotates (so that
# the shape of COMMAND INFO matches); keyed by (full name, key spec index).
NOTES = {
    ("bitfield", 0): "Reads or writes depending on the operations given",
    ("getex", 0): "Marked RW/update since it may change the expiry",
    ("pfcount", 0): "Marked RW: counting may rewrite the HyperLogLog's cached value",
    ("set", 0): "Marked RW/access because GET returns the old value",
    ("sort_ro", 1): "BY/GET patterns: key names come from the sorted data, so unknown",
    ("eval", 0): "Script keys: usage is unknowable, so the broadest flags are declared",
    ("eval_ro", 0): "Script keys: usage is unknowable, so read-only access is declared",
    ("fcall", 0): "Function keys: usage is unknowable, so the broadest flags are declared",
    ("fcall_ro", 0): "Function keys: usage is unknowable, so read-only access is declared",
    ("xadd", 0): "Marked update, not insert, since trimming may delete entries",
    ("sort", 1): "BY/GET patterns: key names come from the sorted data, so unknown",
    ("sort", 2): "STORE may appear at any position, so its place is unknown",
}


def s(b):
    return b.decode() if isinstance(b, (bytes, bytearray)) else b


def rs(text):
    """A Rust string literal."""
    out = ['"']
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append("\\u{%x}" % ord(ch))
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def strs(items):
    return "&[" + ", ".join(rs(s(i)) for i in items) + "]"


def big_o(full_name, text):
    """The leading big-O formula of a complexity text, without the prose."""
    if text is None:
        return ""
    text = s(text)
    if full_name in COMPLEXITY_OVERRIDES:
        return COMPLEXITY_OVERRIDES[full_name]
    if text == "N/A":
        return text
    if not text.startswith("O("):
        # Anything else has its own override or becomes a neutral marker.
        if text.startswith("Depends on"):
            return "Depends on the subcommand"
        raise SystemExit("no big-O formula for %s: %r (add an override)" % (full_name, text))
    out = ""
    i = 0
    while True:
        # one O(...) group, parentheses balanced
        assert text.startswith("O(", i)
        depth = 0
        j = i + 1
        while j < len(text):
            if text[j] == "(":
                depth += 1
            elif text[j] == ")":
                depth -= 1
                if depth == 0:
                    break
            j += 1
        out += text[i:j + 1]
        i = j + 1
        # "O(N)+O(M log(M))", "O(K) + O(M*log(M))": keep the sum
        rest = text[i:]
        stripped = rest.lstrip(" ")
        if stripped.startswith("+"):
            after = stripped[1:].lstrip(" ")
            if after.startswith("O("):
                out += " + " if rest.startswith(" ") else "+"
                i = len(text) - len(after)
                continue
        return out


def begin_search(bs):
    t = s(bs[b"type"])
    spec = bs[b"spec"]
    if t == "index":
        return "BeginSearch::Index(%d)" % spec[b"index"]
    if t == "keyword":
        return "keyword(%s, %d)" % (rs(s(spec[b"keyword"])), spec[b"startfrom"])
    assert t == "unknown", t
    return "BeginSearch::Unknown"


def find_keys(fk):
    t = s(fk[b"type"])
    spec = fk[b"spec"]
    if t == "range":
        return "range(%d, %d, %d)" % (spec[b"lastkey"], spec[b"keystep"], spec[b"limit"])
    if t == "keynum":
        return "keynum(%d, %d, %d)" % (spec[b"keynumidx"], spec[b"firstkey"], spec[b"keystep"])
    assert t == "unknown", t
    return "FindKeys::Unknown"


def key_spec(full, i, ks):
    known = {b"notes", b"flags", b"begin_search", b"find_keys"}
    extra = set(ks) - known
    assert not extra, extra
    out = "ks(%s, %s, %s)" % (strs(ks[b"flags"]), begin_search(ks[b"begin_search"]),
                              find_keys(ks[b"find_keys"]))
    if b"notes" in ks:
        # Redis's notes are prose: ours replace them
        if (full, i) not in NOTES:
            raise SystemExit("key spec %d of %s has notes: add ours to NOTES" % (i, full))
        out += ".notes(%s)" % rs(NOTES[(full, i)])
    return out


def argument(a):
    # 7.0 has no display_text; arguments have no summaries in its replies
    known = {b"name", b"type", b"key_spec_index", b"token", b"since", b"flags",
             b"deprecated_since", b"arguments"}
    extra = set(a) - known
    assert not extra, extra
    out = "arg(%s, %s)" % (rs(s(a[b"name"])), rs(s(a[b"type"])))
    if b"key_spec_index" in a:
        out += ".ks(%d)" % a[b"key_spec_index"]
    if b"token" in a:
        out += ".token(%s)" % rs(s(a[b"token"]))
    if b"since" in a:
        out += ".since(%s)" % rs(s(a[b"since"]))
    if b"flags" in a:
        out += ".flags(%s)" % strs(a[b"flags"])
    if b"deprecated_since" in a:
        out += ".deprecated(%s)" % rs(s(a[b"deprecated_since"]))
    if b"arguments" in a:
        out += ".args(&[%s])" % ", ".join(argument(x) for x in a[b"arguments"])
    return out


def command(info, docs, parent=""):
    full = s(info[0])
    name = full.split("|", 1)[1] if parent else full
    (_, arity, flags, first, last, step, acl, tips, specs, subs) = info
    out = ("sub(%s, %s, %d)" % (rs(parent), rs(name), arity)) if parent else (
        "cmd(%s, %d)" % (rs(name), arity))
    if flags:
        out += ".flags(%s)" % strs(flags)
    if (first, last, step) != (0, 0, 0):
        out += ".keys(%d, %d, %d)" % (first, last, step)
    if acl:
        out += ".acl(%s)" % strs(acl)
    if tips:
        out += ".tips(%s)" % strs(tips)
    if specs:
        out += ".key_specs(&[%s])" % ", ".join(
            key_spec(full, i, k) for i, k in enumerate(specs))
    known = {b"summary", b"since", b"group", b"complexity", b"doc_flags", b"deprecated_since",
             b"replaced_by", b"history", b"arguments", b"subcommands"}
    extra = set(docs) - known
    assert not extra, (full, extra)
    out += ".docs(%s, %s, %s)" % (rs(s(docs[b"since"])), rs(s(docs[b"group"])),
                                  rs(big_o(full, docs.get(b"complexity"))))
    if b"doc_flags" in docs:
        out += ".doc_flags(%s)" % strs(docs[b"doc_flags"])
    if b"deprecated_since" in docs or b"replaced_by" in docs:
        # replaced_by is a fact (a command name, sometimes with its arguments)
        out += ".deprecated(%s, %s)" % (rs(s(docs.get(b"deprecated_since", b""))),
                                         rs(s(docs.get(b"replaced_by", b""))))
    if b"history" in docs:
        # versions only; the descriptions are Redis's prose
        out += ".history(&[%s])" % ", ".join(
            "(%s, \"\")" % rs(s(h[0])) for h in docs[b"history"])
    if docs.get(b"arguments"):
        out += ".args(&[%s])" % ", ".join(argument(x) for x in docs[b"arguments"])
    if subs:
        sub_docs = docs.get(b"subcommands", {})
        items = sorted(subs, key=lambda e: e[0])
        out += ".subs(&[%s])" % ", ".join(
            command(e, sub_docs[e[0]], parent=full) for e in items)
    return out


HEADER = """\
//! The command table of Redis 7.0.15, as facts.
//!
//! Generated by `tools/gen_command_table.py` from a reference server's `COMMAND INFO`
//! and `COMMAND DOCS`; regenerate rather than edit. Prose (summaries, key-spec notes,
//! history descriptions) is not taken from Redis: our summaries are in
//! `summaries.rs`, and complexities are kept to their big-O formula.

use super::build::{arg, cmd, keynum, keyword, ks, range, sub};
use crate::spec::{BeginSearch, CommandSpec, FindKeys};

/// Every command, sorted by name; subcommands sorted by name too.
pub static COMMANDS: &[CommandSpec] = &[
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", default="redis-server")
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--no-fmt", action="store_true")
    opts = ap.parse_args()
    with RefServer(opts.server) as ref:
        c = ref.conn()
        c.call("HELLO", "3")
        infos = c.call("COMMAND", "INFO")
        docs = c.call("COMMAND", "DOCS")
        count = c.call("COMMAND", "COUNT")
        c.close()
    assert len(infos) == count, (len(infos), count)
    body = [HEADER]
    for info in sorted(infos, key=lambda e: e[0]):
        body.append("    %s,\n" % command(info, docs[info[0]]))
    body.append("];\n")
    os.makedirs(os.path.dirname(opts.out), exist_ok=True)
    with open(opts.out, "w") as f:
        f.write("".join(body))
    if not opts.no_fmt:
        subprocess.run(["rustfmt", "--edition", "2021", opts.out], check=True, cwd=ROOT)
    print("wrote %d commands to %s" % (len(infos), opts.out))


if __name__ == "__main__":
    main()
