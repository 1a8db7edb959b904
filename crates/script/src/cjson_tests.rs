//! cjson against Redis 7.0.15's outputs.

use crate::testing::*;
use shoal_resp::Frame;

fn enc(expr: &str) -> String {
    match eval(&format!("return cjson.encode({expr})")) {
        Frame::Bulk(b) => String::from_utf8_lossy(&b).into_owned(),
        Frame::Error(e) => String::from_utf8_lossy(&e).into_owned(),
        other => format!("{other:?}"),
    }
}

fn dec(json: &str) -> String {
    let body = "local ok, v = pcall(cjson.decode, ARGV[1]) if not ok then return 'ERROR: '..v end if type(v)=='table' then return 'T:'..cjson.encode(v) end return type(v)..':'..tostring(v)";
    let mut e = crate::ScriptEngine::new();
    match eval_with(&mut e, &mut FakeHost::default(), body, &[], &[json]).reply {
        Frame::Bulk(b) => String::from_utf8_lossy(&b).into_owned(),
        other => format!("{other:?}"),
    }
}

#[test]
fn encoding() {
    assert_eq!(enc("{}"), "{}");
    assert_eq!(enc("{1,2,3}"), "[1,2,3]");
    assert_eq!(enc("{1,nil,3}"), "[1,null,3]");
    assert_eq!(
        enc("{[1]=1,[10]=2}"),
        "[1,null,null,null,null,null,null,null,null,2]"
    );
    assert!(enc("{[1]=1,[11]=2}").starts_with(
        "ERR user_script:1: Cannot serialise table: excessively sparse array script:"
    ));
    assert_eq!(enc("{a=1}"), r#"{"a":1}"#);
    assert_eq!(enc("{[1.5]=1}"), r#"{"1.5":1}"#);
    assert!(enc("{[true]=1}").starts_with(
        "ERR user_script:1: Cannot serialise boolean: table key must be a number or string"
    ));
    assert_eq!(enc("1/3"), "0.33333333333333");
    assert_eq!(enc("100000000000000"), "1e+14");
    // (-0.0 encodes as "-0" in Redis; mlua hands integral numbers over as integers, losing the sign.)
    assert!(enc("1/0").contains("Cannot serialise number: must not be NaN or Inf"));
    assert_eq!(
        enc(r#"'a"b\\c/d\n\1\127'"#),
        r#""a\"b\\c\/d\n\u0001\u007f""#
    );
    assert_eq!(enc("cjson.null"), "null");
    assert_eq!(enc("{cjson.null}"), "[null]");
    assert_eq!(enc("nil"), "null");
    assert_eq!(enc("{[2]=1}"), "[null,1]");
    assert_eq!(enc("{[0]=1}"), r#"{"0":1}"#);
    assert_eq!(enc("-5e-7"), "-5e-07");
    assert_eq!(enc("{a={b={}}}"), r#"{"a":{"b":{}}}"#);
    assert!(enc("function() end").contains("Cannot serialise function: type not supported"));
    assert!(enc("").contains("bad argument #1 to 'encode' (expected 1 argument)"));
    assert!(eval("local t={} local c=t for i=1,1000 do c[1]={} c=c[1] end return cjson.encode(t)")
        .eq(&Frame::Error(format!("ERR user_script:1: Cannot serialise, excessive nesting (1001) script: {}, on @user_script:1.", sha("local t={} local c=t for i=1,1000 do c[1]={} c=c[1] end return cjson.encode(t)")).into())));
}

#[test]
fn decoding() {
    assert_eq!(dec("[1,2,3]"), "T:[1,2,3]");
    assert_eq!(dec(r#"{"a":[1,{"b":null}]}"#), r#"T:{"a":[1,{"b":null}]}"#);
    assert_eq!(dec(r#""\u00e9\ud83d\ude00\/""#), "string:é😀/");
    assert_eq!(dec("1.5e3"), "number:1500");
    assert_eq!(dec("-0"), "number:-0");
    assert_eq!(dec("0x10"), "number:16");
    assert_eq!(dec("nan"), "number:nan");
    assert_eq!(dec("inf"), "number:inf");
    assert_eq!(
        dec("[1,2"),
        "ERROR: Expected comma or array end but found T_END at character 5"
    );
    assert_eq!(
        dec(r#"{"a" 1}"#),
        "ERROR: Expected colon but found T_NUMBER at character 6"
    );
    assert_eq!(
        dec("tru"),
        "ERROR: Expected value but found invalid token at character 1"
    );
    assert_eq!(
        dec(""),
        "ERROR: Expected value but found T_END at character 1"
    );
    assert_eq!(
        dec("  "),
        "ERROR: Expected value but found T_END at character 3"
    );
    assert_eq!(
        dec("\"abc"),
        "ERROR: Expected value but found unexpected end of string at character 5"
    );
    assert_eq!(
        dec("[1,]"),
        "ERROR: Expected value but found T_ARR_END at character 4"
    );
    assert_eq!(
        dec(r#"{"a":1,}"#),
        "ERROR: Expected object key string but found T_OBJ_END at character 8"
    );
    assert_eq!(dec("01"), "number:1");
    assert_eq!(dec("1."), "number:1");
    assert_eq!(
        dec(".5"),
        "ERROR: Expected value but found invalid token at character 1"
    );
    assert_eq!(
        dec("-"),
        "ERROR: Expected value but found invalid number at character 1"
    );
    assert_eq!(
        dec(r#""\u12""#),
        "ERROR: Expected value but found invalid unicode escape code at character 2"
    );
    assert_eq!(
        dec(r#""\x01""#),
        "ERROR: Expected value but found invalid escape code at character 2"
    );
    assert_eq!(
        dec("[1] x"),
        "ERROR: Expected the end but found invalid token at character 5"
    );
    assert_eq!(
        dec("{1:2}"),
        "ERROR: Expected object key string but found T_NUMBER at character 2"
    );
    assert_eq!(
        dec(r#""\ud800""#),
        "ERROR: Expected value but found invalid unicode escape code at character 2"
    );
    assert_eq!(dec("null"), "userdata:userdata: (nil)");
    assert_eq!(dec("123456789012345678901"), "number:1.2345678901235e+20");
    assert_eq!(dec("1e400"), "number:inf");
    let deep = format!("{}{}", "[".repeat(1001), "]".repeat(1001));
    assert_eq!(
        dec(&deep),
        "ERROR: Found too many nested data structures (1001) at character 1001"
    );
    let ok = format!("{}{}", "[".repeat(1000), "]".repeat(1000));
    assert!(dec(&ok).starts_with("T:"));
    assert!(err_text(&eval("return cjson.decode()")).starts_with(
        "ERR user_script:1: bad argument #1 to 'decode' (expected 1 argument) script:"
    ));
}
