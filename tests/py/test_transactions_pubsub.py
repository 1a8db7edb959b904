"""redis-py's transactions, optimistic locking, Pub/Sub and blocking helpers
against the server under test (see conftest.py). Every wait is bounded."""

import threading
import time

import pytest
import redis


def client(server, **kw):
    return redis.Redis(host="127.0.0.1", port=server.port, decode_responses=True,
                       socket_timeout=10, **kw)


def test_pipeline_transaction(r):
    pipe = r.pipeline(transaction=True)
    pipe.set("a", 1).incr("a").rpush("l", "x", "y").lrange("l", 0, -1).get("missing")
    assert pipe.execute() == [True, 2, 2, ["x", "y"], None]

    # a runtime error inside EXEC does not undo the rest
    pipe = r.pipeline(transaction=True)
    pipe.set("s", "str").incr("s").set("after", "ok")
    results = pipe.execute(raise_on_error=False)
    assert results[0] is True
    assert isinstance(results[1], redis.ResponseError)
    assert results[2] is True
    assert r.get("after") == "ok"

    # a queuing error aborts the whole transaction
    pipe = r.pipeline(transaction=True)
    pipe.set("never", 1).execute_command("NOSUCHCOMMAND")
    with pytest.raises(redis.ResponseError):
        pipe.execute()
    assert r.exists("never") == 0


def test_pipeline_without_transaction(r):
    pipe = r.pipeline(transaction=False)
    for i in range(100):
        pipe.rpush("nl", i)
    pipe.llen("nl")
    pipe.lpop("nl", 3)
    results = pipe.execute()
    assert results[:100] == list(range(1, 101))
    assert results[100] == 100
    assert results[101] == ["0", "1", "2"]


def test_watch_transaction_retries(server, r):
    other = client(server)
    r.set("counter", 10)
    calls = []

    def incr(pipe):
        calls.append(1)
        value = int(pipe.get("counter"))
        if len(calls) == 1:
            # Another client changes the watched key between WATCH and EXEC:
            # the first EXEC fails and redis-py runs the function again.
            other.set("counter", 100)
        pipe.multi()
        pipe.set("counter", value + 1)

    assert r.transaction(incr, "counter") == [True]
    assert len(calls) == 2
    assert r.get("counter") == "101"
    other.close()


def test_watch_error_surfaces(server, r):
    other = client(server)
    r.set("w", 1)
    with r.pipeline() as pipe:
        pipe.watch("w")
        other.incr("w")
        pipe.multi()
        pipe.set("w", "mine")
        with pytest.raises(redis.WatchError):
            pipe.execute()
    assert r.get("w") == "2"
    # UNWATCH (pipeline reset) forgets the key
    with r.pipeline() as pipe:
        pipe.watch("w")
        pipe.unwatch()
        other.incr("w")
        pipe.multi()
        pipe.set("w", "mine")
        assert pipe.execute() == [True]
    other.close()


def wait_message(p, timeout=5.0):
    """The next Pub/Sub message (not a subscription confirmation), or None."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        m = p.get_message(ignore_subscribe_messages=True, timeout=0.1)
        if m is not None:
            return m
    return None


def test_pubsub_channels_and_patterns(server, r):
    p = r.pubsub()
    p.subscribe("news")
    p.psubscribe("sport.*")
    # confirmations first
    kinds = []
    deadline = time.monotonic() + 5
    while len(kinds) < 2 and time.monotonic() < deadline:
        m = p.get_message(timeout=0.1)
        if m:
            kinds.append((m["type"], m["channel"], m["data"]))
    assert kinds == [("subscribe", "news", 1), ("psubscribe", "sport.*", 2)]

    assert r.publish("news", "hello") == 1
    assert r.publish("sport.tennis", "ace") == 1
    assert r.publish("nobody", "x") == 0
    assert r.pubsub_numsub("news") == [("news", 1)]
    assert r.pubsub_numpat() == 1

    m = wait_message(p)
    assert (m["type"], m["channel"], m["data"]) == ("message", "news", "hello")
    m = wait_message(p)
    assert (m["type"], m["pattern"], m["channel"], m["data"]) == \
        ("pmessage", "sport.*", "sport.tennis", "ace")

    p.unsubscribe("news")
    p.punsubscribe("sport.*")
    assert r.publish("news", "gone") == 0
    p.close()


def test_pubsub_listen(server, r):
    p = r.pubsub(ignore_subscribe_messages=True)
    p.subscribe("feed")
    # wait until the subscription is registered
    deadline = time.monotonic() + 5
    while r.pubsub_numsub("feed") != [("feed", 1)] and time.monotonic() < deadline:
        p.get_message(timeout=0.05)

    def publisher():
        pub = client(server)
        for i in range(5):
            pub.publish("feed", f"m{i}")
        pub.publish("feed", "stop")
        pub.close()

    t = threading.Thread(target=publisher)
    t.start()
    got = []
    for m in p.listen():
        if m["type"] != "message":
            continue
        if m["data"] == "stop":
            break
        got.append(m["data"])
        assert len(got) <= 5
    t.join(10)
    assert got == [f"m{i}" for i in range(5)]
    p.close()


def test_pubsub_resp3(server):
    r3 = client(server, protocol=3)
    p = r3.pubsub()
    p.subscribe("c3")
    assert p.get_message(timeout=5)["type"] == "subscribe"
    r3.publish("c3", "pushed")
    m = wait_message(p)
    assert (m["type"], m["data"]) == ("message", "pushed")
    p.close()
    r3.close()


def push_later(server, delay, *cmd):
    def run():
        time.sleep(delay)
        c = client(server)
        c.execute_command(*cmd)
        c.close()
    t = threading.Thread(target=run)
    t.start()
    return t


def test_blocking_pops_served_by_another_client(server, r):
    t = push_later(server, 0.1, "RPUSH", "bl", "a")
    start = time.monotonic()
    assert r.blpop(["bl"], timeout=5) == ("bl", "a")
    assert time.monotonic() - start < 5
    t.join(10)

    t = push_later(server, 0.1, "RPUSH", "br", "x", "y")
    assert r.brpop(["nothing", "br"], timeout=5) == ("br", "y")
    t.join(10)
    assert r.lrange("br", 0, -1) == ["x"]

    t = push_later(server, 0.1, "LPUSH", "src", "moved")
    assert r.blmove("src", "dst", timeout=5, src="LEFT", dest="RIGHT") == "moved"
    t.join(10)
    assert r.lrange("dst", 0, -1) == ["moved"]

    t = push_later(server, 0.1, "RPUSH", "old", "e")
    assert r.brpoplpush("old", "dst", timeout=5) == "e"
    t.join(10)
    assert r.lrange("dst", 0, -1) == ["e", "moved"]


def test_blocking_timeouts(r):
    start = time.monotonic()
    assert r.blpop(["never"], timeout=0.1) is None
    assert r.brpop(["never"], timeout=0.1) is None
    assert r.blmove("never", "dst", timeout=0.1) is None
    elapsed = time.monotonic() - start
    assert 0.25 <= elapsed < 5


def test_blocked_clients_fifo(server, r):
    results = {}

    def waiter(name):
        c = client(server)
        results[name] = c.blpop(["fifo"], timeout=5)
        c.close()

    threads = []
    for name in ("first", "second"):
        t = threading.Thread(target=waiter, args=(name,))
        t.start()
        threads.append(t)
        # the first waiter blocks before the second
        deadline = time.monotonic() + 5
        while (int(r.info("clients")["blocked_clients"]) < len(threads)
               and time.monotonic() < deadline):
            time.sleep(0.01)
    r.rpush("fifo", "one", "two")
    for t in threads:
        t.join(10)
    assert results == {"first": ("fifo", "one"), "second": ("fifo", "two")}
