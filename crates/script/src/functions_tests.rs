//! Functions against Redis 7.0.15's texts.

use bytes::Bytes;
use shoal_resp::{Frame, Proto};

use super::*;
use crate::testing::*;

const LIB: &str = "#!lua name=mylib\nredis.register_function('f1', function(keys, args) return keys[1] end)\nredis.register_function{function_name='f2', callback=function(keys, args) return args[1] end, flags={'no-writes'}, description='desc'}";

fn load_err(code: &str) -> String {
    FunctionEngine::new()
        .load(code.as_bytes(), false)
        .unwrap_err()
}

#[test]
fn load_and_call() {
    let mut e = FunctionEngine::new();
    assert_eq!(e.load(LIB.as_bytes(), false).unwrap(), "mylib");
    let mut h = FakeHost::default();
    let o = e.call(b"f1", &[Bytes::from("k")], &[], &mut h);
    assert_eq!(o.reply, Frame::Bulk("k".into()));
    let o = e.call(b"f2", &[], &[Bytes::from("a")], &mut h);
    assert_eq!(o.reply, Frame::Bulk("a".into()));
    let (_, def) = e.function(b"f2").unwrap();
    assert!(def.flags.no_writes && def.description.as_deref() == Some(&b"desc"[..]));
    assert_eq!(
        e.load(LIB.as_bytes(), false).unwrap_err(),
        "ERR Library 'mylib' already exists"
    );
    assert_eq!(
        e.load(
            b"#!lua name=other\nredis.register_function('f1', function() end)",
            false
        )
        .unwrap_err(),
        "ERR Function f1 already exists"
    );
    assert_eq!(
        e.load(
            b"#!lua name=mylib\nredis.register_function('g', function() return 5 end)",
            true
        )
        .unwrap(),
        "mylib"
    );
    assert!(e.function(b"f1").is_none());
    assert_eq!(e.call(b"g", &[], &[], &mut h).reply, Frame::Integer(5));
    assert_eq!(e.function_count(), 1);
    assert_eq!(e.delete(b"nosuch").unwrap_err(), "ERR Library not found");
    e.delete(b"mylib").unwrap();
    assert_eq!(e.function_count(), 0);
}

#[test]
fn load_errors() {
    assert_eq!(
        load_err("#!lua name=mylib2\nreturn 1"),
        "ERR No functions registered"
    );
    assert_eq!(
        load_err("#!lua name=my-lib\nredis.register_function('f', function() end)"),
        format!("ERR {NAME_RULE}")
    );
    assert_eq!(
        load_err("#!lua\nredis.register_function('f', function() end)"),
        "ERR Library name was not given"
    );
    assert_eq!(
        load_err("redis.register_function('f', function() end)"),
        "ERR Missing library metadata"
    );
    let reg = |body: &str| load_err(&format!("#!lua name=l3\n{body}"));
    assert_eq!(
        reg("redis.register_function('f-x', function() end)"),
        format!("ERR Error registering functions: ERR {NAME_RULE}")
    );
    assert_eq!(reg("redis.register_function('f3', function() end)\nredis.register_function('f3', function() end)"), "ERR Error registering functions: ERR Function already exists in the library");
    assert_eq!(reg("redis.register_function('f3')"), "ERR Error registering functions: ERR calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).");
    assert_eq!(reg("redis.register_function('f3', 5)"), "ERR Error registering functions: ERR second argument to redis.register_function must be a function");
    assert_eq!(
        reg(
            "redis.register_function{function_name='f3', callback=function() end, flags={'bogus'}}"
        ),
        "ERR Error registering functions: ERR unknown flag given"
    );
    assert_eq!(
        reg("redis.register_function{function_name='f3', callback=function() end, foo=1}"),
        "ERR Error registering functions: ERR unknown argument given to redis.register_function"
    );
    assert_eq!(reg("redis.register_function{callback=function() end}"), "ERR Error registering functions: ERR redis.register_function must get a function name argument");
    assert_eq!(
        reg("redis.register_function{function_name='f3'}"),
        "ERR Error registering functions: ERR redis.register_function must get a callback argument"
    );
    assert_eq!(reg("redis.register_function{function_name='f5', callback=function() end, flags='no-writes'}"), "ERR Error registering functions: ERR flags argument to redis.register_function must be a table representing function flags");
    assert_eq!(
        reg("redis.register_function('f6', function() end, 'extra')"),
        "ERR Error registering functions: ERR wrong number of arguments to redis.register_function"
    );
    assert_eq!(reg("redis.call('ping')"), "ERR Error registering functions: ERR user_function:2: Script attempted to access nonexistent global variable 'call'");
    assert_eq!(
        reg("x = 1"),
        "ERR Error registering functions: ERR user_function:2: Attempt to modify a readonly table"
    );
    assert_eq!(reg("error('boom')"), "ERR Error registering functions: ERR user_function:2: Script attempted to access nonexistent global variable 'error'");
    assert_eq!(reg("return redis.setresp(3)"), "ERR Error registering functions: ERR user_function:2: Script attempted to access nonexistent global variable 'setresp'");
    assert_eq!(
        reg("syntax error here"),
        "ERR Error compiling function: user_function:2: '=' expected near 'error'"
    );
    assert_eq!(
        reg("local i = 0 while true do i = i + 1 end"),
        "ERR Error registering functions: ERR FUNCTION LOAD timeout"
    );
}

#[test]
fn runtime_environment() {
    let mut e = FunctionEngine::new();
    e.load(b"#!lua name=r\nredis.register_function('rf', function() return redis.register_function('x', function() end) end)\nredis.register_function('rk', function() return KEYS end)\nredis.register_function('ok', function(k, a) return {type(redis.call), redis.call('echo', a[1])} end)", false).unwrap();
    let mut h = FakeHost::default();
    assert_eq!(err_text(&e.call(b"rf", &[], &[], &mut h).reply), "ERR user_function:2: attempt to call field 'register_function' (a nil value) script: rf, on @user_function:2.");
    assert_eq!(err_text(&e.call(b"rk", &[], &[], &mut h).reply), "ERR user_function:3: Script attempted to access nonexistent global variable 'KEYS' script: rk, on @user_function:3.");
    assert_eq!(
        wire(
            &e.call(b"ok", &[], &[Bytes::from("hi")], &mut h).reply,
            Proto::Resp2
        ),
        "*2\r\n$8\r\nfunction\r\n$2\r\nhi\r\n"
    );
}

#[test]
fn list_and_stats() {
    let mut e = FunctionEngine::new();
    e.load(LIB.as_bytes(), false).unwrap();
    let list = e
        .list(&[
            Bytes::from("withcode"),
            Bytes::from("libraryname"),
            Bytes::from("my*"),
        ])
        .unwrap();
    let w = wire(&list, Proto::Resp3);
    assert!(w.starts_with("*1\r\n%4\r\n$12\r\nlibrary_name\r\n$5\r\nmylib\r\n$6\r\nengine\r\n$3\r\nLUA\r\n$9\r\nfunctions\r\n*2\r\n"));
    assert!(w.contains("%3\r\n$4\r\nname\r\n$2\r\nf2\r\n$11\r\ndescription\r\n$4\r\ndesc\r\n$5\r\nflags\r\n~1\r\n+no-writes\r\n"));
    assert!(w.contains(
        "%3\r\n$4\r\nname\r\n$2\r\nf1\r\n$11\r\ndescription\r\n_\r\n$5\r\nflags\r\n~0\r\n"
    ));
    assert!(w.ends_with(&format!(
        "$12\r\nlibrary_code\r\n${}\r\n{LIB}\r\n",
        LIB.len()
    )));
    assert_eq!(
        e.list(&[Bytes::from("libraryname"), Bytes::from("x*")])
            .unwrap(),
        Frame::Array(vec![])
    );
    assert_eq!(
        e.list(&[Bytes::from("libraryname")]).unwrap_err(),
        "ERR library name argument was not given"
    );
    assert_eq!(
        e.list(&[Bytes::from("foo")]).unwrap_err(),
        "ERR Unknown argument foo"
    );
    assert_eq!(
        e.list(&[Bytes::from("withcode"), Bytes::from("withcode")])
            .unwrap_err(),
        "ERR Unknown argument withcode"
    );
    assert_eq!(wire(&e.stats(None), Proto::Resp3), "%2\r\n$14\r\nrunning_script\r\n_\r\n$7\r\nengines\r\n%1\r\n$3\r\nLUA\r\n%2\r\n$15\r\nlibraries_count\r\n:1\r\n$15\r\nfunctions_count\r\n:2\r\n");
    e.flush();
    assert_eq!(e.function_count(), 0);
}

#[test]
fn numkeys() {
    let a = |v: &[&str]| {
        v.iter()
            .map(|s| Bytes::copy_from_slice(s.as_bytes()))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        split_keys(&a(&["notnum"]), true).unwrap_err(),
        "ERR Bad number of keys provided"
    );
    assert_eq!(
        split_keys(&a(&["notnum"]), false).unwrap_err(),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        split_keys(&a(&["-1"]), false).unwrap_err(),
        "ERR Number of keys can't be negative"
    );
    assert_eq!(
        split_keys(&a(&["5"]), true).unwrap_err(),
        "ERR Number of keys can't be greater than number of args"
    );
    let args = a(&["1", "k", "v"]);
    let (k, v) = split_keys(&args, false).unwrap();
    assert_eq!((k.len(), v.len()), (1, 1));
}
