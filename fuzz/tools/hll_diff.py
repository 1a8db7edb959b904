#!/usr/bin/env python3
"""Replays hll_values inputs against a reference Redis and compares every reply.

Usage: hll_diff.py BINARY PORT INPUT...
BINARY is the built hll_values target (fuzz/target/<triple>/release/hll_values); it
runs the inputs with SHOAL_FUZZ_TRACE=1 and prints each command and Shoal's raw
reply; this script sends the same commands to redis-server on PORT (a fresh
database per input, with the input's protocol and hll-sparse-max-bytes) and prints
the first difference of each input that differs.
"""
import socket
import subprocess
import sys


def enc(args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


class Conn:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port))
        self.buf = b""

    def line(self):
        while b"\r\n" not in self.buf:
            self.buf += self.s.recv(65536)
        i = self.buf.index(b"\r\n")
        ln, self.buf = self.buf[: i + 2], self.buf[i + 2 :]
        return ln

    def exact(self, n):
        while len(self.buf) < n:
            self.buf += self.s.recv(65536)
        d, self.buf = self.buf[:n], self.buf[n:]
        return d

    def frame(self):
        ln = self.line()
        t = ln[:1]
        if t in b"$=!" and ln[1:3] != b"-1":
            return ln + self.exact(int(ln[1:-2]) + 2)
        if t in b"*~>%" and ln[1:3] != b"-1":
            n = int(ln[1:-2]) * (2 if t == b"%" else 1)
            return ln + b"".join(self.frame() for _ in range(n))
        return ln

    def call(self, args):
        self.s.sendall(enc(args))
        return self.frame()


def main():
    binary, port, inputs = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    conn = Conn(port)
    differ = 0
    for path in inputs:
        p = subprocess.run([binary, path], env={"SHOAL_FUZZ_TRACE": "1"},
                           capture_output=True)
        lines = [l for l in p.stderr.split(b"\n") if l.startswith(b"@@")]
        conn.call([b"FLUSHALL"])
        conn.call([b"HELLO", b"2"])
        cmd = None
        for l in lines:
            kind, rest = l[:3], l[4:]
            if kind == b"@@#":
                proto, sparse = rest.split()
                conn.call([b"CONFIG", b"SET", b"hll-sparse-max-bytes", sparse])
                conn.call([b"HELLO", proto])
            elif kind == b"@@>":
                cmd = [bytes.fromhex(x.decode()) for x in rest.split(b" ")]
            else:
                ours = bytes.fromhex(rest.decode())
                theirs = conn.call(cmd)
                if ours != theirs:
                    differ += 1
                    print(path, [c[:40] for c in cmd], "\n  shoal:", ours[:200],
                          "\n  redis:", theirs[:200])
                    break
    print(f"{len(inputs)} inputs, {differ} differ")


if __name__ == "__main__":
    main()
