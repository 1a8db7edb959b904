"""redis-py read/write splitting over a master and its replica (the
`master_replica` fixture of conftest.py): one client writes to the master,
another reads from the replica after WAIT; writes to the replica raise
ReadOnlyError. Every wait is bounded."""

import time

import pytest
import redis


def client(server):
    return redis.Redis(host="127.0.0.1", port=server.port, decode_responses=True,
                       socket_timeout=10)


@pytest.fixture
def pair(master_replica):
    master, replica = master_replica
    w, r = client(master), client(replica)
    w.flushall()
    assert w.wait(1, 10000) == 1
    yield w, r
    w.close()
    r.close()


def test_roles(pair):
    w, r = pair
    mi = w.info("replication")
    ri = r.info("replication")
    assert mi["role"] == "master"
    assert mi["connected_slaves"] == 1
    assert mi["slave0"]["state"] == "online"
    assert ri["role"] == "slave"
    assert ri["master_link_status"] == "up"
    assert ri["master_port"] == w.connection_pool.connection_kwargs["port"]
    assert ri["master_replid"] == mi["master_replid"]
    assert w.role()[0] == "master"
    role = r.role()
    assert role[0] == "slave" and role[3] == "connected"


def test_write_master_read_replica(pair):
    w, r = pair
    for i in range(100):
        w.set(f"k{i}", i)
        w.hset(f"h{i % 7}", f"f{i}", i)
        assert w.wait(1, 10000) == 1
        assert r.get(f"k{i}") == str(i)
        assert r.hget(f"h{i % 7}", f"f{i}") == str(i)
    w.rpush("list", *range(10))
    w.zadd("zset", {"a": 1, "b": 2})
    w.set("ttl", "v", ex=3600)
    assert w.wait(1, 10000) == 1
    assert r.lrange("list", 0, -1) == [str(i) for i in range(10)]
    assert r.zrange("zset", 0, -1, withscores=True) == [("a", 1.0), ("b", 2.0)]
    assert 3500 <= r.ttl("ttl") <= 3600
    assert r.dbsize() == w.dbsize()


def test_transactions_and_scripts_replicate(pair):
    w, r = pair
    pipe = w.pipeline(transaction=True)
    pipe.incr("counter").incr("counter").sadd("s", "x", "y")
    assert pipe.execute() == [1, 2, 2]
    assert w.eval("redis.call('SET', KEYS[1], ARGV[1]) return redis.call('INCR', KEYS[2])",
                  2, "from-script", "counter", "v") == 3
    assert w.wait(1, 10000) == 1
    assert r.get("counter") == "3"
    assert r.smembers("s") == {"x", "y"}
    assert r.get("from-script") == "v"


def test_replica_refuses_writes(pair):
    w, r = pair
    with pytest.raises(redis.exceptions.ReadOnlyError) as e:
        r.set("k", "v")
    assert str(e.value) == "You can't write against a read only replica."
    with pytest.raises(redis.exceptions.ReadOnlyError):
        r.delete("k")
    with pytest.raises(redis.exceptions.ReadOnlyError):
        r.eval("return redis.call('SET', 'k', 'v')", 0)
    # The replica stays usable for reads.
    w.set("k", "from-master")
    assert w.wait(1, 10000) == 1
    assert r.get("k") == "from-master"


def test_replica_catches_up_without_wait(pair):
    """A reader that does not use WAIT sees the writes within a bounded time."""
    w, r = pair
    for i in range(200):
        w.set(f"n{i}", i)
    deadline = time.monotonic() + 30
    while r.get("n199") != "199":
        assert time.monotonic() < deadline, "replica did not catch up"
        time.sleep(0.02)
    assert r.mget([f"n{i}" for i in range(200)]) == [str(i) for i in range(200)]
