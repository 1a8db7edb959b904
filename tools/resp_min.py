"""A tiny RESP2/RESP3 client for the table generator and fixture capture.

It speaks raw RESP so that replies are seen exactly as the server sends them
(redis-py's reply callbacks reshape some COMMAND replies). Parsed values:
  simple/blob strings -> bytes, errors -> RespError, integers -> int,
  arrays/sets/pushes -> list (sets wrapped in RespSet), maps -> dict (ordered),
  nulls -> None, doubles -> float, booleans -> bool.
"""

import os
import shutil
import socket
import subprocess
import tempfile
import time


class RespError(Exception):
    pass


class RespSet(list):
    pass


class Simple(bytes):
    """A RESP simple string (+...), kept apart from blob strings."""


class Conn:
    def __init__(self, port, host="127.0.0.1"):
        self.sock = socket.create_connection((host, port))
        self.buf = b""

    def close(self):
        self.sock.close()

    @staticmethod
    def encode(args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            if isinstance(a, str):
                a = a.encode()
            elif isinstance(a, int):
                a = str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        return b"".join(out)

    def _fill(self):
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            raise EOFError("connection closed")
        self.buf += chunk

    def _line(self, pos):
        while True:
            i = self.buf.find(b"\r\n", pos)
            if i >= 0:
                return self.buf[pos:i], i + 2
            self._fill()

    def _need(self, end):
        while len(self.buf) < end:
            self._fill()

    def _parse(self, pos):
        self._need(pos + 1)
        t = self.buf[pos:pos + 1]
        line, pos = self._line(pos + 1)
        if t == b"+":
            return Simple(line), pos
        if t == b"-":
            return RespError(line.decode()), pos
        if t == b":":
            return int(line), pos
        if t in (b"$", b"=", b"!"):
            n = int(line)
            if n < 0:
                return None, pos
            self._need(pos + n + 2)
            data = self.buf[pos:pos + n]
            if t == b"!":
                return RespError(data.decode()), pos + n + 2
            return data, pos + n + 2
        if t in (b"*", b"~", b">"):
            n = int(line)
            if n < 0:
                return None, pos
            items = RespSet() if t == b"~" else []
            for _ in range(n):
                v, pos = self._parse(pos)
                items.append(v)
            return items, pos
        if t in (b"%", b"|"):
            n = int(line)
            d = {}
            for _ in range(n):
                k, pos = self._parse(pos)
                v, pos = self._parse(pos)
                d[k] = v
            if t == b"|":  # attribute: skip, return the following value
                return self._parse(pos)
            return d, pos
        if t == b"_":
            return None, pos
        if t == b",":
            return float(line), pos
        if t == b"#":
            return line == b"t", pos
        if t == b"(":
            return int(line), pos
        raise ValueError("bad RESP type %r" % t)

    def call(self, *args):
        """Sends one command, returns the parsed reply."""
        self.sock.sendall(self.encode(args))
        v, pos = self._parse(0)
        self.buf = self.buf[pos:]
        return v

    def call_raw(self, *args):
        """Sends one command, returns the exact bytes of its reply."""
        self.sock.sendall(self.encode(args))
        _, pos = self._parse(0)
        raw, self.buf = self.buf[:pos], self.buf[pos:]
        return raw


def free_port():
    while True:
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        if port != 6379:
            return port


class RefServer:
    """A reference redis-server on a free loopback port, in a temp dir."""

    def __init__(self, binary="redis-server"):
        self.dir = tempfile.mkdtemp(prefix="shoal-ref-")
        self.port = free_port()
        self.proc = subprocess.Popen(
            [binary, "--save", "", "--port", str(self.port), "--bind", "127.0.0.1",
             "--dir", self.dir, "--appendonly", "no", "--daemonize", "no",
             "--logfile", os.path.join(self.dir, "log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        while True:
            try:
                c = Conn(self.port)
                if c.call("PING") == b"PONG":
                    c.close()
                    break
            except (OSError, EOFError):
                pass
            if time.time() > deadline or self.proc.poll() is not None:
                self.stop()
                raise RuntimeError("reference redis-server did not start")
            time.sleep(0.05)

    def conn(self):
        return Conn(self.port)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
