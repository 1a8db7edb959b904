"""redis-py's scripting helpers against the server under test: Script objects
(EVALSHA, with the NOSCRIPT fallback after SCRIPT FLUSH), scripts in pipelines
and transactions, FUNCTION LOAD / FCALL / FCALL_RO."""

import pytest
import redis

INCR_BY = "return redis.call('incrby', KEYS[1], ARGV[1])"


def test_register_script_evalsha_and_noscript_fallback(r):
    r.script_flush()
    incr_by = r.register_script(INCR_BY)
    # The first call finds no script (NOSCRIPT), loads it and runs EVALSHA again.
    assert incr_by(keys=["n"], args=[2]) == 2
    assert r.script_exists(incr_by.sha) == [True]
    assert incr_by(keys=["n"], args=[3]) == 5
    # Another Script object of the same body shares the SHA and the cached script.
    again = r.register_script(INCR_BY)
    assert again.sha == incr_by.sha
    assert again(keys=["n"], args=[1]) == 6
    # After SCRIPT FLUSH, EVALSHA gets NOSCRIPT and redis-py loads the script again.
    assert r.script_flush() is True
    assert r.script_exists(incr_by.sha) == [False]
    assert incr_by(keys=["n"], args=[10]) == 16
    assert r.script_exists(incr_by.sha) == [True]
    with pytest.raises(redis.exceptions.NoScriptError):
        r.evalsha("f" * 40, 0)


def test_scripts_in_pipelines(r):
    incr_by = r.register_script(INCR_BY)
    r.script_flush()
    # A transaction: redis-py loads missing scripts before MULTI.
    pipe = r.pipeline()
    pipe.set("a", 1)
    incr_by(keys=["a"], args=[5], client=pipe)
    pipe.get("a")
    assert pipe.execute() == [True, 6, "6"]
    # A plain pipeline of cached scripts.
    pipe = r.pipeline(transaction=False)
    for _ in range(10):
        incr_by(keys=["a"], args=[1], client=pipe)
    assert pipe.execute() == list(range(7, 17))
    # Flushed again: the pipeline checks SCRIPT EXISTS and loads it first.
    r.script_flush()
    pipe = r.pipeline(transaction=False)
    incr_by(keys=["a"], args=[1], client=pipe)
    pipe.eval("return ARGV[1]", 0, "inline")
    assert pipe.execute() == [17, "inline"]


def test_script_replies_and_errors(r):
    r.set("s", "text")
    assert r.eval("return {1, 'two', {3}, false}", 0) == [1, "two", [3], None]
    assert r.eval("return {KEYS[1], ARGV[1]}", 1, "k", "v") == ["k", "v"]
    bad = r.register_script("return redis.call('incr', KEYS[1])")
    with pytest.raises(redis.ResponseError, match="not an integer or out of range"):
        bad(keys=["s"])
    with pytest.raises(redis.ResponseError, match="Error compiling script"):
        r.eval("return (", 0)
    assert r.eval_ro("return redis.call('get', KEYS[1])", 1, "s") == "text"
    with pytest.raises(redis.ResponseError, match="Write commands are not allowed"):
        r.eval_ro("return redis.call('set', KEYS[1], 'x')", 1, "s")
    assert r.get("s") == "text"


LIB = """#!lua name=pylib
redis.register_function('hello', function(keys, args) return 'hello ' .. args[1] end)
redis.register_function('setget', function(keys, args)
  redis.call('set', keys[1], args[1])
  return redis.call('get', keys[1])
end)
redis.register_function{function_name='getkey',
  callback=function(keys) return redis.call('get', keys[1]) end,
  flags={'no-writes'}}
"""


def test_fcall(r):
    r.function_flush()
    assert r.function_load(LIB) == "pylib"
    assert r.fcall("hello", 0, "world") == "hello world"
    assert r.fcall("setget", 1, "fk", "fv") == "fv"
    assert r.fcall_ro("getkey", 1, "fk") == "fv"
    with pytest.raises(redis.ResponseError, match="write flag using \\*_ro command"):
        r.fcall_ro("setget", 1, "fk", "x")
    with pytest.raises(redis.ResponseError, match="already exists"):
        r.function_load(LIB)
    assert r.function_load(LIB, replace=True) == "pylib"
    with pytest.raises(redis.ResponseError, match="Function not found"):
        r.fcall("nosuch", 0)
    pipe = r.pipeline()
    pipe.fcall("hello", 0, "pipe")
    pipe.fcall_ro("getkey", 1, "fk")
    assert pipe.execute() == ["hello pipe", "fv"]
    assert r.function_delete("pylib") is True
    assert r.function_list() == []
