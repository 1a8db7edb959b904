"""Fixtures for the real-client tests: start the server under test on an
ephemeral loopback port in a temporary directory, and stop it afterwards.

SHOAL_SERVER selects the binary (default: target/debug/shoal-server of this
repository). SHOAL_SERVER=/usr/bin/redis-server runs the same tests against
the reference server.

Tests named in tests/py/XFAIL are marked as expected failures (not strict),
so that the suite can land before the server implements what they need;
SHOAL_PY_STRICT=1 ignores that list.
"""

import os
import pathlib
import shutil
import socket
import subprocess
import tempfile
import time

import pytest
import redis

REPO = pathlib.Path(__file__).resolve().parents[2]
HERE = pathlib.Path(__file__).resolve().parent


def server_binary() -> pathlib.Path:
    path = pathlib.Path(os.environ.get("SHOAL_SERVER", "target/debug/shoal-server"))
    if not path.is_absolute():
        path = REPO / path
    return path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    assert port != 6379
    return port


def ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            s.sendall(b"*1\r\n$4\r\nPING\r\n")
            return s.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class Server:
    """A server process on an ephemeral port; `stop()` kills it."""

    def __init__(self, binary: pathlib.Path, extra=()):
        self.binary = binary
        self.dir = tempfile.mkdtemp(prefix="shoal-py-")
        self.log_path = os.path.join(self.dir, "server.log")
        last_error = ""
        for _ in range(3):
            self.port = free_port()
            args = [
                str(binary),
                "--port", str(self.port),
                "--bind", "127.0.0.1",
                "--dir", self.dir,
                "--save", "",
                "--appendonly", "no",
                "--enable-debug-command", "yes",
                *extra,
            ]
            log = open(self.log_path, "ab")
            self.proc = subprocess.Popen(
                args, cwd=self.dir, stdin=subprocess.DEVNULL, stdout=log, stderr=log
            )
            log.close()
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    last_error = f"exited with status {self.proc.returncode}"
                    break
                if ping(self.port):
                    return
                time.sleep(0.02)
            else:
                last_error = "did not answer PING within 10 s"
            self.proc.kill()
            self.proc.wait()
        self.cleanup()
        raise RuntimeError(f"{binary} {last_error}; log:\n{self.log_tail()}")

    def log_tail(self, n=30) -> str:
        try:
            with open(self.log_path, "r", errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.cleanup()

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="session")
def server():
    binary = server_binary()
    if not binary.exists():
        pytest.fail(f"server binary {binary} not found (build it, or set SHOAL_SERVER)")
    try:
        s = Server(binary)
    except RuntimeError as e:
        pytest.fail(str(e))
    yield s
    s.stop()


@pytest.fixture
def r(server):
    """A decoded RESP2 client on a flushed server."""
    client = redis.Redis(host="127.0.0.1", port=server.port, decode_responses=True,
                         socket_timeout=10)
    client.flushall()
    yield client
    client.close()


@pytest.fixture
def rb(server):
    """A bytes client (no decoding) on a flushed server."""
    client = redis.Redis(host="127.0.0.1", port=server.port, socket_timeout=10)
    client.flushall()
    yield client
    client.close()


def wait_replica_link_up(replica: Server, limit=30.0):
    """Polls INFO replication on `replica` until master_link_status is up;
    raises (with the replica's log) after `limit` seconds."""
    client = redis.Redis(host="127.0.0.1", port=replica.port, decode_responses=True,
                         socket_timeout=10)
    try:
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if client.info("replication").get("master_link_status") == "up":
                return
            time.sleep(0.02)
    finally:
        client.close()
    raise RuntimeError(f"replica link not up within {limit} s; log:\n{replica.log_tail()}")


@pytest.fixture(scope="module")
def master_replica():
    """A master and a replica of it (`--replicaof` on the command line), the
    replica's link up; both stopped afterwards."""
    binary = server_binary()
    if not binary.exists():
        pytest.fail(f"server binary {binary} not found (build it, or set SHOAL_SERVER)")
    try:
        master = Server(binary, ["--repl-diskless-sync-delay", "0"])
    except RuntimeError as e:
        pytest.fail(str(e))
    try:
        replica = Server(binary, ["--repl-diskless-sync-delay", "0",
                                  "--replicaof", "127.0.0.1", str(master.port)])
    except RuntimeError as e:
        master.stop()
        pytest.fail(str(e))
    try:
        wait_replica_link_up(replica)
    except RuntimeError as e:
        replica.stop()
        master.stop()
        pytest.fail(str(e))
    yield master, replica
    replica.stop()
    master.stop()


def _xfail_names():
    path = HERE / "XFAIL"
    if not path.exists():
        return set()
    names = set()
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            names.add(line)
    return names


def pytest_collection_modifyitems(config, items):
    if os.environ.get("SHOAL_PY_STRICT") == "1":
        return
    names = _xfail_names()
    for item in items:
        if item.name in names or item.originalname in names:
            item.add_marker(pytest.mark.xfail(
                reason="listed in tests/py/XFAIL (not implemented in shoal-server yet)",
                strict=False))
