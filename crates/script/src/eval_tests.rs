//! EVAL behaviour against a fake host: results, errors and the sandbox, each checked
//! against Redis 7.0.15.

use shoal_resp::{Frame, Proto};

use crate::testing::*;
use crate::ScriptEngine;

fn suffix(body: &str, line: u32) -> String {
    format!(" script: {}, on @user_script:{line}.", sha(body))
}

#[test]
fn return_values() {
    assert_eq!(
        wire(&eval("return {1,2,3.7,-3.7,'a',nil,5}"), Proto::Resp2),
        "*5\r\n:1\r\n:2\r\n:3\r\n:-3\r\n$1\r\na\r\n"
    );
    assert_eq!(
        wire(
            &eval("return {true,false,{ok='fine'},{err='bad'},{1,{2}}}"),
            Proto::Resp2
        ),
        "*5\r\n:1\r\n$-1\r\n+fine\r\n-bad\r\n*2\r\n:1\r\n*1\r\n:2\r\n"
    );
    assert_eq!(eval("return 1e300"), Frame::Integer(i64::MIN));
    assert_eq!(eval("return {x=1}"), Frame::Array(vec![]));
    assert_eq!(
        wire(&eval("return {double=1.5}"), Proto::Resp2),
        "$3\r\n1.5\r\n"
    );
    assert_eq!(wire(&eval("return {double=1.5}"), Proto::Resp3), ",1.5\r\n");
    assert_eq!(
        wire(&eval("return {map={a=1}}"), Proto::Resp2),
        "*2\r\n$1\r\na\r\n:1\r\n"
    );
    assert_eq!(
        wire(&eval("return {set={a=true}}"), Proto::Resp3),
        "~1\r\n$1\r\na\r\n"
    );
    assert_eq!(
        wire(&eval("return {big_number='123'}"), Proto::Resp3),
        "(123\r\n"
    );
    assert_eq!(
        wire(
            &eval("return {verbatim_string={format='txt',string='hi'}}"),
            Proto::Resp3
        ),
        "=6\r\ntxt:hi\r\n"
    );
    assert_eq!(wire(&eval("return {err='-x'}"), Proto::Resp2), "--x\r\n");
    assert_eq!(wire(&eval("return {err=''}"), Proto::Resp2), "-\r\n");
    assert_eq!(
        wire(&eval("return {ok='a\\r\\nb'}"), Proto::Resp2),
        "+a  b\r\n"
    );
    assert_eq!(
        wire(&eval("redis.setresp(3) return {true, false}"), Proto::Resp2),
        "*2\r\n:1\r\n:0\r\n"
    );
    assert_eq!(
        wire(&eval("redis.setresp(3) return false"), Proto::Resp3),
        "#f\r\n"
    );
    assert_eq!(wire(&eval("return false"), Proto::Resp3), "_\r\n");
    assert_eq!(wire(&eval("return"), Proto::Resp2), "$-1\r\n");
    assert_eq!(
        wire(&eval("local t={} t[1]=t return t"), Proto::Resp2)
            .matches("reached lua stack limit")
            .count(),
        1
    );
}

#[test]
fn runtime_errors() {
    let b = "return x";
    assert_eq!(
        err_text(&eval(b)),
        format!(
            "ERR user_script:1: Script attempted to access nonexistent global variable 'x'{}",
            suffix(b, 1)
        )
    );
    let b = "x = 1";
    assert_eq!(
        err_text(&eval(b)),
        format!(
            "ERR user_script:1: Attempt to modify a readonly table{}",
            suffix(b, 1)
        )
    );
    let b = "local a = 1\nlocal function f()\n  error('boom')\nend\nreturn f()";
    assert_eq!(
        err_text(&eval(b)),
        format!("ERR user_script:3: boom{}", suffix(b, 3))
    );
    let b = "local a = 1\nlocal function f()\n  error({err='x'})\nend\nf()";
    assert_eq!(err_text(&eval(b)), format!("x{}", suffix(b, 3)));
    let b = "error('boom', 0)";
    assert_eq!(err_text(&eval(b)), format!("ERR boom{}", suffix(b, 1)));
    let b = "error({err='-OOPS boom'}, 0)";
    assert_eq!(
        wire(&eval(b), Proto::Resp2),
        format!("--OOPS boom{}\r\n", suffix(b, 1))
    );
    let b = "error(42)";
    assert_eq!(
        err_text(&eval(b)),
        format!("ERR user_script:1: 42{}", suffix(b, 1))
    );
    let b = "error()";
    assert_eq!(err_text(&eval(b)), format!("ERR nil{}", suffix(b, 1)));
    let b = "rawset(_G, 'x', 1) return x";
    assert_eq!(
        err_text(&eval(b)),
        format!("ERR Attempt to modify a readonly table{}", suffix(b, 1))
    );
    let b = "setmetatable(_G, nil)";
    assert_eq!(
        err_text(&eval(b)),
        format!("ERR Attempt to modify a readonly table{}", suffix(b, 1))
    );
    let b = "redis.x = 1";
    assert_eq!(
        err_text(&eval(b)),
        format!(
            "ERR user_script:1: Attempt to modify a readonly table{}",
            suffix(b, 1)
        )
    );
    let b = "local t = nil; return t.y";
    assert_eq!(
        err_text(&eval(b)),
        format!(
            "ERR user_script:1: attempt to index local 't' (a nil value){}",
            suffix(b, 1)
        )
    );
    let b = "return string.rep()";
    assert_eq!(
        err_text(&eval(b)),
        format!(
            "ERR user_script:1: bad argument #1 to 'rep' (string expected, got no value){}",
            suffix(b, 1)
        )
    );
}

#[test]
fn compile_errors() {
    assert_eq!(
        err_text(&eval("return 1 +")),
        "ERR Error compiling script (new function): user_script:1: unexpected symbol near '<eof>'"
    );
    assert_eq!(
        err_text(&eval("#!lua flags=no-writes\nx")),
        "ERR Error compiling script (new function): user_script:2: '=' expected near '<eof>'"
    );
    assert_eq!(err_text(&eval("#!lua")), "ERR Invalid script shebang");
    let b = "#!lua\nerror('x')";
    assert_eq!(
        err_text(&eval(b)),
        format!("ERR user_script:2: x{}", suffix(b, 2))
    );
}

#[test]
fn sandbox_globals() {
    for name in [
        "os", "print", "io", "loadfile", "dofile", "require", "module", "setfenv", "getfenv",
        "debug", "newproxy", "package",
    ] {
        let b = format!("return type({name})");
        assert!(
            err_text(&eval(&b)).contains(&format!("nonexistent global variable '{name}'")),
            "{name}"
        );
    }
    for name in [
        "loadstring",
        "load",
        "gcinfo",
        "collectgarbage",
        "unpack",
        "coroutine",
        "_G",
        "string",
        "cjson",
        "cmsgpack",
        "bit",
        "struct",
        "redis",
        "KEYS",
        "ARGV",
        "xpcall",
        "pcall",
    ] {
        let b = format!("return type({name})");
        assert!(matches!(eval(&b), Frame::Bulk(_)), "{name}");
    }
    assert_eq!(
        eval("local n = 0 for k in pairs(redis) do n = n + 1 end return n"),
        Frame::Integer(23)
    );
    assert_eq!(eval("return rawget(_G, 'KEYS') ~= nil"), Frame::Integer(1));
    assert_eq!(eval("return getmetatable(_G) ~= nil"), Frame::Integer(1));
    assert_eq!(
        eval("local t = KEYS; t[1] = 5; return t"),
        Frame::Array(vec![Frame::Integer(5)])
    );
    assert_eq!(eval("return ('x'):upper()"), Frame::Bulk("X".into()));
    assert_eq!(eval("return loadstring('return 7')()"), Frame::Integer(7));
    assert!(err_text(&eval("loadstring('y = 1')()")).contains("Attempt to modify a readonly table"));
    assert_eq!(
        eval("return loadstring(string.dump(function() end))"),
        Frame::Null
    );
    assert!(
        err_text(&eval("table.insert(string, 1)")).contains("Attempt to modify a readonly table")
    );
    assert_eq!(
        eval("return {pcall(function() error('boom') end)}"),
        Frame::Array(vec![Frame::Null, Frame::Bulk("user_script:1: boom".into())])
    );
    assert_eq!(
        eval("local ok, e = pcall(function() redis.call('nosuch') end) return e"),
        Frame::Bulk("ERR Unknown Redis command called from script".into())
    );
}

#[test]
fn keys_and_argv() {
    let mut e = ScriptEngine::new();
    let mut h = FakeHost::default();
    let o = eval_with(
        &mut e,
        &mut h,
        "return {KEYS[1], ARGV[1], ARGV[2], #KEYS}",
        &["k"],
        &["a", "b"],
    );
    assert_eq!(
        o.reply,
        Frame::Array(vec![
            Frame::Bulk("k".into()),
            Frame::Bulk("a".into()),
            Frame::Bulk("b".into()),
            Frame::Integer(1)
        ])
    );
    let o = eval_with(&mut e, &mut h, "return #ARGV", &[], &[]);
    assert_eq!(o.reply, Frame::Integer(0));
}

#[test]
fn redis_call_and_pcall() {
    let mut e = ScriptEngine::new();
    let mut h = FakeHost::default();
    let o = eval_with(&mut e, &mut h, "redis.call('set', KEYS[1], 0.1) redis.call('set','b', 2^53) return {redis.call('get', KEYS[1]), redis.call('get','b'), redis.call('get','nokey')}", &["a"], &[]);
    assert_eq!(
        wire(&o.reply, Proto::Resp2),
        "*3\r\n$19\r\n0.10000000000000001\r\n$16\r\n9007199254740992\r\n$-1\r\n"
    );
    let b = "return redis.call('lpush','s','x')";
    let o = eval_with(&mut e, &mut h, b, &[], &[]);
    assert_eq!(
        err_text(&o.reply),
        format!(
            "WRONGTYPE Operation against a key holding the wrong kind of value{}",
            suffix(b, 1)
        )
    );
    assert!(o.error_already_counted);
    let o = eval_with(
        &mut e,
        &mut h,
        "return redis.pcall('lpush','s','x')",
        &[],
        &[],
    );
    assert_eq!(
        err_text(&o.reply),
        "WRONGTYPE Operation against a key holding the wrong kind of value"
    );
    assert!(o.error_already_counted);
    let b = "return redis.call()";
    assert_eq!(
        err_text(&eval(b)),
        format!(
            "ERR Please specify at least one argument for this redis lib call{}",
            suffix(b, 1)
        )
    );
    let b = "return redis.call('set','a',true)";
    assert_eq!(
        err_text(&eval(b)),
        format!(
            "ERR Lua redis lib command arguments must be strings or integers{}",
            suffix(b, 1)
        )
    );
    let b = "local a = 1\nlocal function f()\n  return redis.call('nosuch')\nend\nreturn f()";
    assert_eq!(
        err_text(&eval(b)),
        format!(
            "ERR Unknown Redis command called from script{}",
            suffix(b, 3)
        )
    );
    assert_eq!(
        eval("return redis.call('ping')"),
        Frame::Simple("PONG".into())
    );
    assert_eq!(
        eval("return redis.call('ping').ok"),
        Frame::Bulk("PONG".into())
    );
    assert_eq!(eval("return cjson.encode(redis.pcall('lpush','h',1))"), Frame::Bulk(r#"{"ignore_error_stats_update":true,"err":"WRONGTYPE Operation against a key holding the wrong kind of value"}"#.into()));
}

#[test]
fn resp3_replies_to_lua() {
    assert_eq!(
        eval("redis.setresp(3); return cjson.encode(redis.call('hgetall','h'))"),
        Frame::Bulk(r#"{"map":{"a":"1"}}"#.into())
    );
    assert_eq!(
        eval("return cjson.encode(redis.call('hgetall','h'))"),
        Frame::Bulk(r#"["a","1"]"#.into())
    );
    assert_eq!(
        eval("redis.setresp(3); return cjson.encode(redis.call('zscore','z','m'))"),
        Frame::Bulk(r#"{"double":1.5}"#.into())
    );
    assert_eq!(
        eval("redis.setresp(3); return type(redis.call('get','nokey'))"),
        Frame::Bulk("nil".into())
    );
    assert_eq!(
        eval("return type(redis.call('get','nokey'))"),
        Frame::Bulk("boolean".into())
    );
    let mut e = ScriptEngine::new();
    let mut h = FakeHost::default();
    eval_with(
        &mut e,
        &mut h,
        "redis.setresp(3) redis.call('ping')",
        &[],
        &[],
    );
    eval_with(&mut e, &mut h, "redis.call('ping')", &[], &[]);
    assert_eq!(
        h.calls.iter().map(|c| c.1).collect::<Vec<_>>(),
        vec![Proto::Resp3, Proto::Resp2]
    );
}

#[test]
fn redis_lib_helpers() {
    assert_eq!(
        wire(&eval("return redis.error_reply('My Error')"), Proto::Resp2),
        "-My Error\r\n"
    );
    assert_eq!(
        eval("return redis.error_reply('x').err"),
        Frame::Bulk("ERR x".into())
    );
    assert_eq!(
        err_text(&eval("return redis.error_reply()")),
        "ERR wrong number or type of arguments"
    );
    assert_eq!(
        err_text(&eval("return redis.status_reply(5)")),
        "ERR wrong number or type of arguments"
    );
    assert_eq!(
        eval("return redis.status_reply('FINE')"),
        Frame::Simple("FINE".into())
    );
    assert_eq!(
        eval("return redis.sha1hex('')"),
        Frame::Bulk("da39a3ee5e6b4b0d3255bfef95601890afd80709".into())
    );
    assert_eq!(
        eval("return redis.sha1hex(5)"),
        Frame::Bulk("ac3478d69a3c81fa62e60f5c3696165a4e5e6ac4".into())
    );
    let b = "return redis.sha1hex()";
    assert_eq!(
        err_text(&eval(b)),
        format!("ERR wrong number of arguments{}", suffix(b, 1))
    );
    let b = "redis.setresp(4)";
    assert_eq!(
        err_text(&eval(b)),
        format!("ERR RESP version must be 2 or 3.{}", suffix(b, 1))
    );
    let b = "redis.setresp()";
    assert_eq!(
        err_text(&eval(b)),
        format!("ERR redis.setresp() requires one argument.{}", suffix(b, 1))
    );
    let b = "return redis.log(9, 'x')";
    assert_eq!(
        err_text(&eval(b)),
        format!("ERR Invalid debug level.{}", suffix(b, 1))
    );
    let b = "return redis.log('x')";
    assert_eq!(
        err_text(&eval(b)),
        format!(
            "ERR redis.log() requires two arguments or more.{}",
            suffix(b, 1)
        )
    );
    let b = "return redis.set_repl(9)";
    assert_eq!(
        err_text(&eval(b)),
        format!(
            "ERR Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.{}",
            suffix(b, 1)
        )
    );
    let b = "return redis.set_repl()";
    assert_eq!(
        err_text(&eval(b)),
        format!(
            "ERR redis.set_repl() requires two arguments.{}",
            suffix(b, 1)
        )
    );
    assert_eq!(eval("return redis.replicate_commands()"), Frame::Integer(1));
    assert_eq!(eval("return redis.breakpoint()"), Frame::Null);
    assert_eq!(eval("return {redis.REDIS_VERSION, redis.REDIS_VERSION_NUM, redis.REPL_ALL, redis.LOG_WARNING}"),
        Frame::Array(vec![Frame::Bulk("7.0.15".into()), Frame::Integer(458767), Frame::Integer(3), Frame::Integer(3)]));
    let mut e = ScriptEngine::new();
    let mut h = FakeHost::default();
    eval_with(
        &mut e,
        &mut h,
        "redis.log(redis.LOG_WARNING, 'x', 5, nil, 'y') redis.set_repl(redis.REPL_AOF)",
        &[],
        &[],
    );
    assert_eq!(h.logs, vec![(crate::LogLevel::Warning, b"x 5 y".to_vec())]);
    assert_eq!(h.repl, vec![1]);
}

#[test]
fn kill_aborts_even_under_pcall() {
    let mut e = ScriptEngine::new();
    let mut h = FakeHost {
        kill_after: Some(2),
        ..FakeHost::default()
    };
    let b = "local i = 0 while true do pcall(function() while true do i = i + 1 end end) end";
    let o = eval_with(&mut e, &mut h, b, &[], &[]);
    assert_eq!(
        err_text(&o.reply),
        format!(
            "ERR Script killed by user with SCRIPT KILL...{}",
            suffix(b, 1)
        )
    );
    // The engine is usable afterwards.
    assert_eq!(
        eval_with(&mut e, &mut FakeHost::default(), "return 1", &[], &[]).reply,
        Frame::Integer(1)
    );
}

#[test]
fn cache() {
    let mut e = ScriptEngine::new();
    let sha = e.load(b"return 1").unwrap();
    assert_eq!(sha, "e0e1f9fabfc9d4800c877a703b823ac0578ff8db");
    assert!(e.exists(sha.to_uppercase().as_bytes()));
    assert_eq!(e.len(), 1);
    e.flush();
    assert!(!e.exists(sha.as_bytes()));
    assert!(e.get(b"zz").is_none());
}
