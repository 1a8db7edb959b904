#!/usr/bin/env python3
"""Regenerates config-set-probes.tsv from the reference server.

Starts Debian's redis-server 7.0.15 on a unix socket in a scratch directory,
sends `CONFIG SET name value` for many (name, value) probes, and records the
reply: `OK <CONFIG GET value afterwards>` or the error line. After every
successful probe the previous value is restored. Output lines are
name<TAB>value<TAB>result, with value double-quoted as redis.conf quotes.

Usage: python3 generate-set-probes.py > config-set-probes.tsv
"""
import os
import socket
import subprocess
import sys
import tempfile
import time

NUMBERS = ["abc", "-99999999999999999999999", "99999999999999999999999", "-1", "1.5", "1k", "10%", "",
           "-9223372036854775808", "9223372036854775807", "18446744073709551615", "+5", " 5", "5 ", "05",
           "0x10", "-0", "1K", "1Kb", "1gB", "1b", "1B", "1bb", "99999999999g", "150%", "-5%", "0%", "100%",
           "5.0", "0", "7", "65535", "65536", "100", "2147483648"]
BOOLS = ["yes", "NO", "Yes ", "y", "1", ""]
STRINGS = ["abc", "", "a b", "/x/y", "a\\b"]
SPECIAL = {
    "save": ["", "100 10 200 5", "100 x", "100", "100 10 200", "-1 5", "0 0", "0 5", "5 0", "05 1", "+5 1",
             "5 1 ", " 5 1", "5  1", "5x 1", "9223372036854775807 1", "9223372036854775808 1",
             "1 9223372036854775807", "5 -1", "5 "],
    "client-output-buffer-limit": ["normal 1 2 3", "replica 1kb 2mb 3 pubsub 1 1 1", "NORMAL 1 2 3",
             "foo 1 2 3", "master 1 2 3", "normal x 2 3", "normal 1 2 -3", "normal 1 2 x", "normal 1 2",
             "normal 1 2 3 normal 4 5 6", "normal -1 2 3", "normal 1 2 +3", "normal 1 2 99999999999999999999",
             "normal 99999999999999999999999 2 3", "normal 1 2 3 slave 0 0 0 ", "normal 1.5 2 3",
             "normal 1 2 3 foo 1 2 3", "", "pubsub 1gb 1mb 0"],
    "oom-score-adj-values": ["1 2", "1 2 3", "-2000 2 3", "1 x 3", "5 2 3", "+1 02 3", "2001 0 0", "1 2 3 4", ""],
    "notify-keyspace-events": ["", "K", "E", "A", "KEA", "g$lshzxetmdn", "KEAA", "Ex", "AK", "KA", "Kt", "Km",
             "Kmn", "Kx", "Kd", "KAmn", "Kg$lshzxetd", "Kndtxezhsl$", "Kg$", "KEmd", "mEK", "AKEmn", "Kq", "k"],
    "latency-tracking-info-percentiles": ["1 2 3", "1 2 x", "0.5", "99.99999", "33.333333333", "1e-7", "100",
             "0", "", "50 50", "1,2", "101", "-1", "+5", "05", "-0", "5.0", " 5", "0x10", "1 2  3"],
    "proc-title-template": ["{title}", "a}", "{port", "x{}", " ", "{config-file}{unixsocket}{tls-port}{port}",
             "{TITLE}", "{{title}}", "a{title}b", "", "{listen-addr}", "{server-mode}", "abc"],
    "cluster-announce-hostname": ["a.b-c", "A1", "", "a b", "-", ".", "a_b", "x%"],
    "shutdown-on-sigint": ["nosave now force", "save nosave", "NOW", "default now", "", "now now",
             "force save now", "x", "save  now"],
    "oom-score-adj": ["relative", "absolute", "YES", "no", "x", ""],
    "maxmemory-clients": NUMBERS + ["9223372036854775808", "05%", "5%x", "1mb"],
    "maxclients": ["0", "abc", "4294967296", "-1"],
    "requirepass": [""],
    "repl-backlog-size": NUMBERS + ["16383", "16385", "1mb"],
    "hz": NUMBERS + ["499", "500", "501"],
}
SKIP = {"bind", "port", "unixsocket"}


def resp(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        b = a.encode()
        out += b"$%d\r\n%s\r\n" % (len(b), b)
    return out


class Conn:
    def __init__(self, path):
        self.path = path
        self.connect()

    def connect(self):
        self.s = socket.socket(socket.AF_UNIX)
        self.s.connect(self.path)
        self.f = self.s.makefile("rb")

    def reply(self):
        line = self.f.readline().rstrip(b"\r\n").decode()
        t, rest = line[0], line[1:]
        if t in "+-:":
            return line
        if t == "$":
            n = int(rest)
            return None if n < 0 else self.f.read(n + 2)[:-2].decode()
        if t == "*":
            return [self.reply() for _ in range(int(rest))]
        raise ValueError(line)

    def call(self, *args):
        for attempt in range(3):
            try:
                self.s.sendall(resp(*args))
                return self.reply()
            except (OSError, ValueError, IndexError):
                time.sleep(0.05)
                self.connect()
        raise RuntimeError("connection lost")


def quote(v):
    out = '"'
    for c in v.encode():
        ch = chr(c)
        if ch == "\\":
            out += "\\\\"
        elif ch == '"':
            out += '\\"'
        elif 0x20 <= c <= 0x7E:
            out += ch
        else:
            out += "\\x%02x" % c
    return out + '"'


def main():
    scratch = tempfile.mkdtemp()
    sock = os.path.join(scratch, "sock")
    proc = subprocess.Popen(["redis-server", "--port", "0", "--unixsocket", sock, "--dir", scratch],
                            cwd=scratch, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            if os.path.exists(sock):
                break
            time.sleep(0.05)
        c = Conn(sock)
        flat = c.call("CONFIG", "GET", "*")
        current = dict(zip(flat[::2], flat[1::2]))
        for hidden in ["key-load-delay", "loading-process-events-interval-bytes", "lua-enable-deprecated-api",
                       "rdb-key-save-delay", "use-exit-on-panic", "watchdog-period"]:
            current[hidden] = c.call("CONFIG", "GET", hidden)[1]
        for name in sorted(current):
            if name in SKIP:
                continue
            value = current[name]
            if name in SPECIAL:
                probes = SPECIAL[name]
            elif value in ("yes", "no"):
                probes = BOOLS
            elif value.lstrip("-").isdigit():
                probes = NUMBERS
            else:
                probes = STRINGS + [value.upper(), "x"]
            for p in probes:
                r = c.call("CONFIG", "SET", name, p)
                if r == "+OK":
                    after = c.call("CONFIG", "GET", name)[1]
                    result = "OK " + after
                    c.call("CONFIG", "SET", name, value)
                else:
                    result = r[1:]
                print("%s\t%s\t%s" % (name, quote(p), result))
    finally:
        proc.terminate()
        proc.wait()


if __name__ == "__main__":
    sys.exit(main())
