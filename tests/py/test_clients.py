"""Real-client tests: redis-py, redis-cli and redis-benchmark against the server
under test (see conftest.py)."""

import re
import shutil
import subprocess

import pytest
import redis


def test_basic_commands(r):
    assert r.ping() is True
    assert r.set("k", "v") is True
    assert r.get("k") == "v"
    assert r.get("missing") is None
    assert r.set("k", "w", nx=True) is None
    assert r.set("k", "w", xx=True, get=True) == "v"
    assert r.incr("n") == 1
    assert r.incrby("n", 41) == 42
    assert r.decr("n") == 41
    assert r.incrbyfloat("f", 1.5) == 1.5
    assert r.append("k", "xyz") == 4
    assert r.strlen("k") == 4
    assert r.getrange("k", 1, -1) == "xyz"
    assert r.mset({"a": "1", "b": "2"}) is True
    assert r.mget("a", "b", "missing") == ["1", "2", None]
    assert r.exists("a", "b", "missing") == 2
    assert r.type("a") == "string"
    assert r.expire("a", 100) is True
    assert r.ttl("a") == 100
    assert r.persist("a") is True
    assert r.ttl("a") == -1
    assert r.delete("a", "b", "missing") == 2
    assert r.dbsize() == 3
    assert r.rename("k", "k2") is True
    assert r.get("k2") == "wxyz"
    with pytest.raises(redis.ResponseError, match="wrong number of arguments"):
        r.execute_command("GET")
    with pytest.raises(redis.ResponseError, match="not an integer or out of range"):
        r.incr("k2")


def test_binary_values(rb):
    value = bytes(range(256)) * 4
    key = b"bin\x00key\r\n"
    assert rb.set(key, value) is True
    assert rb.get(key) == value
    assert rb.strlen(key) == len(value)
    assert rb.setbit(b"bits", 7, 1) == 0
    assert rb.get(b"bits") == b"\x01"
    assert rb.bitcount(b"bits") == 1


def test_pipeline(r):
    pipe = r.pipeline(transaction=False)
    for i in range(1000):
        pipe.set(f"p:{i}", i)
    for i in range(1000):
        pipe.incr(f"p:{i}")
    pipe.get("p:999")
    pipe.execute_command("NOSUCHCOMMAND")
    pipe.dbsize()
    results = pipe.execute(raise_on_error=False)
    assert results[:1000] == [True] * 1000
    assert results[1000:2000] == list(range(1, 1001))
    assert results[2000] == "1000"
    assert isinstance(results[2001], redis.ResponseError)
    assert "unknown command" in str(results[2001])
    assert results[2002] == 1000


def test_resp3(server):
    r3 = redis.Redis(host="127.0.0.1", port=server.port, protocol=3, decode_responses=True)
    try:
        r3.flushall()
        hello = r3.execute_command("HELLO", 3)
        assert hello["proto"] == 3
        assert hello["role"] == "master"
        assert r3.set("k", "v") is True
        assert r3.get("k") == "v"
        assert r3.get("missing") is None
        assert r3.mget("k", "missing") == ["v", None]
        assert r3.config_get("maxmemory") == {"maxmemory": "0"}
        assert r3.incrbyfloat("f", 2.5) == 2.5
        lcs = r3.execute_command("LCS", "k", "k", "IDX")
        assert lcs["len"] == 1
        assert r3.execute_command("DEBUG", "PROTOCOL", "double") == 3.141
        assert r3.execute_command("DEBUG", "PROTOCOL", "true") is True
        assert r3.execute_command("DEBUG", "PROTOCOL", "null") is None
        assert r3.execute_command("DEBUG", "PROTOCOL", "map") == {0: False, 1: True, 2: False}
    finally:
        r3.close()


def test_client_name_and_info(r):
    assert r.client_getname() is None
    assert r.client_setname("py-client") is True
    assert r.client_getname() == "py-client"
    cid = r.client_id()
    assert isinstance(cid, int) and cid > 0
    info = r.client_info()
    assert info["name"] == "py-client"
    assert int(info["id"]) == cid
    assert int(info["db"]) == 0
    clients = r.client_list()
    assert any(c["name"] == "py-client" and int(c["id"]) == cid for c in clients)
    with pytest.raises(redis.ResponseError):
        r.client_setname("bad name")


def test_scan_iter(r):
    keys = {f"key:{i}" for i in range(500)}
    r.mset({k: "x" for k in keys})
    r.mset({f"other:{i}": "y" for i in range(100)})
    seen = list(r.scan_iter(match="key:*", count=50))
    # SCAN may return a key more than once, but must return every key
    assert set(seen) == keys
    assert set(r.scan_iter(count=1000)) >= keys
    assert set(r.scan_iter(match="other:1?", count=7)) == {f"other:{i}" for i in range(10, 20)}
    assert set(r.scan_iter(match="key:*", _type="string", count=100)) == keys


def test_scan_iter_strings_only(r):
    r.mset({f"s:{i}": i for i in range(300)})
    assert set(r.scan_iter(_type="STRING", count=33)) == {f"s:{i}" for i in range(300)}
    assert list(r.scan_iter(_type="hash")) == []


def redis_cli(server, *args, stdin=None):
    return subprocess.run(
        ["redis-cli", "-h", "127.0.0.1", "-p", str(server.port), *args],
        input=stdin, capture_output=True, timeout=60,
    )


@pytest.mark.skipif(shutil.which("redis-cli") is None, reason="redis-cli not installed")
def test_redis_cli_one_shot(server, r):
    out = redis_cli(server, "SET", "greeting", "hello world")
    assert out.returncode == 0, out.stderr
    assert out.stdout == b"OK\n"
    out = redis_cli(server, "GET", "greeting")
    assert out.stdout == b"hello world\n"
    out = redis_cli(server, "--raw", "INCR", "counter")
    assert out.stdout == b"1\n"
    out = redis_cli(server, "MGET", "greeting", "nokey")
    assert out.stdout == b"hello world\n\n"
    out = redis_cli(server, "--no-raw", "MGET", "greeting", "nokey")
    assert out.stdout == b'1) "hello world"\n2) (nil)\n'
    out = redis_cli(server, "--no-raw", "GET", "nokey")
    assert out.stdout == b"(nil)\n"
    out = redis_cli(server, "--no-raw", "INCR", "greeting")
    assert out.stdout == b"(error) ERR value is not an integer or out of range\n"
    out = redis_cli(server, "-3", "--no-raw", "GET", "nokey")
    assert out.stdout == b"(nil)\n"
    out = redis_cli(server, "PING")
    assert out.stdout == b"PONG\n"
    # commands read from standard input, one per line
    out = redis_cli(server, stdin=b"SET fromstdin 1\nINCR fromstdin\n")
    assert out.stdout == b"OK\n2\n"


@pytest.mark.skipif(shutil.which("redis-cli") is None, reason="redis-cli not installed")
def test_redis_cli_pipe_mass_insertion(server, r):
    n = 20000
    chunks = []
    for i in range(n):
        key = f"mass:{i:07d}".encode()
        val = f"value-{i}".encode()
        chunks.append(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(key), key, len(val), val))
    out = redis_cli(server, "--pipe", stdin=b"".join(chunks))
    assert out.returncode == 0, (out.stdout, out.stderr)
    text = out.stdout.decode()
    m = re.search(r"errors: (\d+), replies: (\d+)", text)
    assert m, text
    assert (int(m.group(1)), int(m.group(2))) == (0, n), text
    assert r.dbsize() == n
    assert r.get("mass:0012345") == "value-12345"


@pytest.mark.skipif(shutil.which("redis-benchmark") is None, reason="redis-benchmark not installed")
def test_redis_benchmark(server, r):
    out = subprocess.run(
        ["redis-benchmark", "-h", "127.0.0.1", "-p", str(server.port), "-q",
         "-n", "2000", "-t", "set,get,incr,mset", "-P", "16"],
        capture_output=True, timeout=120,
    )
    text = out.stdout.decode(errors="replace") + out.stderr.decode(errors="replace")
    text = text.replace("\r", "\n")  # progress lines end in CR
    assert out.returncode == 0, text
    assert "error" not in text.lower(), text
    for name in ("SET", "GET", "INCR", "MSET"):
        assert re.search(rf"^\s*{name}.*: [\d.]+ requests per second", text, re.M), text


def shoal_cli_binary():
    import os
    import pathlib
    path = pathlib.Path(os.environ.get("SHOAL_CLI", "target/debug/shoal-cli"))
    return path if path.exists() else None


@pytest.mark.skipif(shoal_cli_binary() is None, reason="shoal-cli not built (set SHOAL_CLI)")
@pytest.mark.parametrize("cli", ["redis-cli", "shoal-cli"])
def test_cli_renders_like_redis_cli(server, r, cli):
    """shoal-cli prints what redis-cli prints for the same replies from the server."""
    if shutil.which("redis-cli") is None:
        pytest.skip("redis-cli not installed")
    binary = "redis-cli" if cli == "redis-cli" else str(shoal_cli_binary())
    r.set("greeting", "hello world")
    r.rpush("list", "a", "b c")
    cases = [
        ["--no-raw", "GET", "greeting"],
        ["--no-raw", "GET", "nokey"],
        ["--no-raw", "LRANGE", "list", "0", "-1"],
        ["--no-raw", "INCR", "greeting"],
        ["--no-raw", "-3", "CONFIG", "GET", "maxclients"],
        ["LRANGE", "list", "0", "-1"],
        ["-n", "1", "--no-raw", "DBSIZE"],
    ]
    for args in cases:
        ours = subprocess.run([binary, "-p", str(server.port), *args], capture_output=True, timeout=60)
        ref = subprocess.run(["redis-cli", "-p", str(server.port), *args], capture_output=True, timeout=60)
        assert ours.stdout == ref.stdout, (args, ours.stdout, ref.stdout)
    # --pipe mass insertion
    payload = b"".join(b"*3\r\n$3\r\nSET\r\n$6\r\ncli:%02d\r\n$1\r\nv\r\n" % i for i in range(50))
    out = subprocess.run([binary, "-p", str(server.port), "--pipe"], input=payload, capture_output=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert b"errors: 0, replies: 50" in out.stdout, out.stdout
