use super::*;
use shoal_resp::Proto;

#[test]
fn frames_to_lua_and_back() {
    let lua = Lua::new();
    let f = Frame::Array(vec![
        Frame::Integer(3),
        Frame::Bulk("x".into()),
        Frame::Null,
    ]);
    let v = frame_to_lua(&lua, &f, false).unwrap();
    assert_eq!(
        lua_to_frame(&v, false),
        Frame::Array(vec![
            Frame::Integer(3),
            Frame::Bulk("x".into()),
            Frame::Null
        ])
    );
    let v = frame_to_lua(&lua, &Frame::Simple("OK".into()), false).unwrap();
    assert_eq!(lua_to_frame(&v, false), Frame::Simple("OK".into()));
    let v = frame_to_lua(&lua, &Frame::Error("WRONGTYPE x".into()), false).unwrap();
    assert_eq!(lua_to_frame(&v, false), Frame::Error("WRONGTYPE x".into()));
    let v = frame_to_lua(&lua, &Frame::Boolean(true), true).unwrap();
    assert_eq!(lua_to_frame(&v, true), Frame::Boolean(true));
    assert_eq!(lua_to_frame(&v, false), Frame::Integer(1));
    let v = frame_to_lua(&lua, &Frame::BigNumber("12345678901234567890".into()), true).unwrap();
    assert_eq!(
        lua_to_frame(&v, true),
        Frame::BigNumber("12345678901234567890".into())
    );
    let v = frame_to_lua(&lua, &Frame::Null, true).unwrap();
    assert_eq!(v, Value::Nil);
}

#[test]
fn writing_downgrades_for_resp2() {
    let f = Frame::Map(vec![(Frame::Bulk("a".into()), Frame::Double("1.5".into()))]);
    let mut w = ReplyWriter::new(Proto::Resp2);
    write_frame(&f, &mut w);
    assert_eq!(&w.buf[..], b"*2\r\n$1\r\na\r\n$3\r\n1.5\r\n");
    let mut w = ReplyWriter::new(Proto::Resp3);
    write_frame(&f, &mut w);
    assert_eq!(&w.buf[..], b"%1\r\n$1\r\na\r\n,1.5\r\n");
}
