//! Files and DUMP payloads written by Debian's redis-server 7.0 read back into
//! the values that were written: every type in every encoding Redis 7.0 writes,
//! TTLs, several databases, a function library and the aux fields.
//!
//! Skipped (with a note) when /usr/bin/redis-server is absent. The server runs on
//! an ephemeral loopback port in a temp dir and is shut down at the end (and
//! killed if the test fails before that).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use shoal_ds::num::parse_f64;
use shoal_keyspace::stream::StreamId;
use shoal_keyspace::Value;
use shoal_rdb::decode::value_from_bytes;
use shoal_rdb::{FileReader, Item, Limits, ReadOptions};

const REDIS: &str = "/usr/bin/redis-server";

#[derive(Debug, Clone, PartialEq)]
enum Reply {
    Status(String),
    Error(String),
    Int(i64),
    Bulk(Option<Vec<u8>>),
    Array(Vec<Reply>),
}

impl Reply {
    fn bytes(&self) -> Vec<u8> {
        match self {
            Reply::Bulk(Some(b)) => b.clone(),
            Reply::Status(s) => s.as_bytes().to_vec(),
            Reply::Int(i) => i.to_string().into_bytes(),
            r => panic!("not a string reply: {r:?}"),
        }
    }
    fn int(&self) -> i64 {
        match self {
            Reply::Int(i) => *i,
            r => panic!("not an integer: {r:?}"),
        }
    }
    fn array(&self) -> &[Reply] {
        match self {
            Reply::Array(v) => v,
            r => panic!("not an array: {r:?}"),
        }
    }
    /// A field of a flat `name value name value` array.
    fn field(&self, name: &str) -> &Reply {
        let a = self.array();
        let i = (0..a.len())
            .step_by(2)
            .find(|&i| a[i].bytes() == name.as_bytes())
            .unwrap_or_else(|| panic!("no field {name}"));
        &a[i + 1]
    }
}

struct Server {
    child: Child,
    conn: BufReader<TcpStream>,
    dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start() -> Option<Server> {
        if !std::path::Path::new(REDIS).exists() {
            eprintln!("note: {REDIS} is absent; skipping the redis-server test");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(REDIS)
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut conn = None;
        for _ in 0..200 {
            if let Ok(c) = TcpStream::connect(("127.0.0.1", port)) {
                conn = Some(c);
                break;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        let mut child = child;
        let Some(conn) = conn else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("redis-server did not start");
        };
        conn.set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        Some(Server {
            child,
            conn: BufReader::new(conn),
            dir,
        })
    }

    fn cmd<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Reply {
        let mut out = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            let a = a.as_ref();
            out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            out.extend_from_slice(a);
            out.extend_from_slice(b"\r\n");
        }
        self.conn.get_mut().write_all(&out).unwrap();
        let r = read_reply(&mut self.conn);
        if let Reply::Error(e) = &r {
            panic!(
                "redis error {e} for {:?}",
                String::from_utf8_lossy(args[0].as_ref())
            );
        }
        r
    }

    fn c(&mut self, line: &str) -> Reply {
        let args: Vec<&str> = line.split(' ').collect();
        self.cmd(&args)
    }
}

fn read_reply(r: &mut impl BufRead) -> Reply {
    let mut line = Vec::new();
    r.read_until(b'\n', &mut line).unwrap();
    assert!(line.ends_with(b"\r\n"), "short reply");
    let body = String::from_utf8_lossy(&line[1..line.len() - 2]).into_owned();
    match line[0] {
        b'+' => Reply::Status(body),
        b'-' => Reply::Error(body),
        b':' => Reply::Int(body.parse().unwrap()),
        b'$' => {
            let n: i64 = body.parse().unwrap();
            if n < 0 {
                return Reply::Bulk(None);
            }
            let mut b = vec![0u8; n as usize + 2];
            r.read_exact(&mut b).unwrap();
            b.truncate(n as usize);
            Reply::Bulk(Some(b))
        }
        b'*' => {
            let n: i64 = body.parse().unwrap();
            Reply::Array((0..n.max(0)).map(|_| read_reply(r)).collect())
        }
        c => panic!("unknown reply type {c}"),
    }
}

fn id_text(id: StreamId) -> Vec<u8> {
    format!("{}-{}", id.ms, id.seq).into_bytes()
}

/// Checks `v` against what the server holds at `key` (current database).
fn check(s: &mut Server, key: &[u8], v: &Value, opts: &ReadOptions) {
    let name = String::from_utf8_lossy(key).into_owned();
    let typ = s.cmd(&[b"TYPE".as_ref(), key]).bytes();
    assert_eq!(typ, v.kind().name().as_bytes(), "{name}: type");
    let enc = s.cmd(&[b"OBJECT".as_ref(), b"ENCODING", key]).bytes();
    assert_eq!(
        String::from_utf8_lossy(&enc),
        v.encoding(),
        "{name}: encoding"
    );
    match v {
        Value::Str(x) => {
            assert_eq!(s.cmd(&[b"GET".as_ref(), key]).bytes(), x.to_vec(), "{name}");
        }
        Value::List(l) => {
            let want: Vec<Vec<u8>> = s
                .cmd(&[b"LRANGE".as_ref(), key, b"0", b"-1"])
                .array()
                .iter()
                .map(Reply::bytes)
                .collect();
            let got: Vec<Vec<u8>> = l.iter().map(|e| e.to_vec()).collect();
            assert_eq!(got, want, "{name}");
        }
        Value::Set(x) => {
            let mut want: Vec<Vec<u8>> = s
                .cmd(&[b"SMEMBERS".as_ref(), key])
                .array()
                .iter()
                .map(Reply::bytes)
                .collect();
            let mut got: Vec<Vec<u8>> = x.iter().map(|e| e.to_vec()).collect();
            want.sort();
            got.sort();
            assert_eq!(got, want, "{name}");
        }
        Value::ZSet(z) => {
            let r = s.cmd(&[b"ZRANGE".as_ref(), key, b"0", b"-1", b"WITHSCORES"]);
            let want: Vec<(Vec<u8>, f64)> = r
                .array()
                .chunks(2)
                .map(|p| (p[0].bytes(), parse_f64(&p[1].bytes()).unwrap()))
                .collect();
            let mut got = Vec::new();
            z.for_each(&mut |m, sc| got.push((m.to_vec(), sc)));
            assert_eq!(got, want, "{name}");
        }
        Value::Hash(h) => {
            let r = s.cmd(&[b"HGETALL".as_ref(), key]);
            let want: Vec<(Vec<u8>, Vec<u8>)> = r
                .array()
                .chunks(2)
                .map(|p| (p[0].bytes(), p[1].bytes()))
                .collect();
            let got: Vec<(Vec<u8>, Vec<u8>)> =
                h.iter().map(|(f, v)| (f.to_vec(), v.to_vec())).collect();
            if h.is_compact() {
                // Insertion order, as Redis's listpack.
                assert_eq!(got, want, "{name}");
            } else {
                let (mut got, mut want) = (got, want);
                got.sort();
                want.sort();
                assert_eq!(got, want, "{name}");
            }
        }
        Value::Stream(x) => check_stream(s, key, x, &name),
    }
    let _ = opts;
}

fn check_stream(s: &mut Server, key: &[u8], x: &shoal_keyspace::Stream, name: &str) {
    let want: Vec<(Vec<u8>, Vec<Vec<u8>>)> = s
        .cmd(&[b"XRANGE".as_ref(), key, b"-", b"+"])
        .array()
        .iter()
        .map(|e| {
            let e = e.array();
            (
                e[0].bytes(),
                e[1].array().iter().map(Reply::bytes).collect(),
            )
        })
        .collect();
    let got: Vec<(Vec<u8>, Vec<Vec<u8>>)> = x
        .range(StreamId::ZERO, StreamId::MAX, false)
        .map(|(id, e)| {
            let mut flat = Vec::new();
            for (f, v) in e.pairs() {
                flat.push(f.to_vec());
                flat.push(v.to_vec());
            }
            (id_text(id), flat)
        })
        .collect();
    assert_eq!(got, want, "{name}: entries");
    let info = s.cmd(&[b"XINFO".as_ref(), b"STREAM", key]);
    assert_eq!(info.field("length").int() as usize, x.len(), "{name}");
    assert_eq!(info.field("last-generated-id").bytes(), id_text(x.last_id));
    assert_eq!(
        info.field("max-deleted-entry-id").bytes(),
        id_text(x.max_deleted_id)
    );
    assert_eq!(info.field("entries-added").int() as u64, x.entries_added);
    assert_eq!(
        info.field("recorded-first-entry-id").bytes(),
        id_text(x.first_id)
    );
    assert_eq!(
        info.field("radix-tree-keys").int() as usize,
        x.node_count(),
        "{name}: nodes"
    );
    let groups = s.cmd(&[b"XINFO".as_ref(), b"GROUPS", key]);
    assert_eq!(groups.array().len(), x.groups.len(), "{name}: groups");
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    for gr in groups.array() {
        let gname = gr.field("name").bytes();
        let g = &x.groups[&gname[..]];
        assert_eq!(gr.field("last-delivered-id").bytes(), id_text(g.last_id));
        assert_eq!(
            gr.field("entries-read"),
            &if g.entries_read < 0 {
                Reply::Bulk(None)
            } else {
                Reply::Int(g.entries_read)
            }
        );
        assert_eq!(gr.field("pending").int() as usize, g.pel.len());
        assert_eq!(gr.field("consumers").int() as usize, g.consumers.len());
        let pending = s.cmd(&[b"XPENDING".as_ref(), key, &gname, b"-", b"+", b"1000"]);
        let want: Vec<(Vec<u8>, Vec<u8>, i64)> = pending
            .array()
            .iter()
            .map(|p| {
                let p = p.array();
                (p[0].bytes(), p[1].bytes(), p[3].int())
            })
            .collect();
        let got: Vec<(Vec<u8>, Vec<u8>, i64)> = g
            .pel
            .iter()
            .map(|(id, p)| (id_text(*id), p.consumer.to_vec(), p.delivery_count as i64))
            .collect();
        assert_eq!(got, want, "{name}: PEL of group");
        for p in g.pel.values() {
            assert!((now_ms - p.delivery_time).abs() < 600_000, "delivery time");
        }
        let cons = s.cmd(&[b"XINFO".as_ref(), b"CONSUMERS", key, &gname]);
        for c in cons.array() {
            let cname = c.field("name").bytes();
            let mine = &g.consumers[&cname[..]];
            assert_eq!(c.field("pending").int() as usize, mine.pel.len());
            assert!((now_ms - mine.seen_time).abs() < 600_000, "seen time");
            for id in &mine.pel {
                assert_eq!(*g.pel[id].consumer, *cname);
            }
        }
    }
}

/// Fills the server with every type in every encoding (databases 0, 1, 2).
fn fill(s: &mut Server) {
    s.c("SET str:int 12345");
    s.c("SET str:neg -7");
    s.c("SET str:i64 9223372036854775807");
    s.c("SET str:emb hello");
    s.cmd(&["SET", "str:raw", &"abcdefgh".repeat(40)]);
    let noise: Vec<u8> = (0..300u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    s.cmd(&[b"SET".as_ref(), b"str:noise", &noise]);
    s.cmd(&[b"SET".as_ref(), b"str:bin", b"\x00\xff\r\n"]);
    s.c("SET str:ttl v PX 100000000");

    s.c("RPUSH list:small a b 1 -2 300 70000 -9000000000 c");
    let big = "L".repeat(10_000);
    s.cmd(&["RPUSH", "list:plain", "x", &big, "y"]);
    for chunk in 0..10 {
        let mut args = vec!["RPUSH".to_string(), "list:many".into()];
        args.extend((0..200).map(|i| format!("element-{chunk}-{i}")));
        s.cmd(&args);
    }
    s.c("PEXPIREAT list:many 33000000000000");

    s.c("SADD set:int 1 -5 100 70000 -3000000000 5000000000");
    s.c("SADD set:table a b c 12");
    let mut args = vec!["SADD".to_string(), "set:bigint".into()];
    args.extend((0..600).map(|i| (i * 7).to_string()));
    s.cmd(&args);

    s.c("ZADD zset:lp 1.5 a -2 b inf c -inf d 0 e 3 f");
    let mut args = vec!["ZADD".to_string(), "zset:skip".into()];
    for i in 0..200 {
        args.push(format!("{}", i as f64 / 3.0));
        args.push(format!("member-{i}"));
    }
    args.extend(["inf", "top", "-inf", "bottom"].map(String::from));
    s.cmd(&args);
    s.cmd(&["ZADD", "zset:long", "1", &"m".repeat(100)]);

    s.c("HSET hash:lp f1 v1 f2 2 f3 -3 f4 v4");
    let mut args = vec!["HSET".to_string(), "hash:ht".into()];
    for i in 0..300 {
        args.push(format!("field-{i}"));
        args.push(format!("value-{i}"));
    }
    s.cmd(&args);
    s.cmd(&["HSET", "hash:long", "f", &"v".repeat(100)]);

    for i in 1..=250 {
        if i % 50 == 7 {
            s.cmd(&["XADD", "stream", &format!("1-{i}"), "other", "x"]);
        } else {
            s.cmd(&[
                "XADD",
                "stream",
                &format!("1-{i}"),
                "a",
                &i.to_string(),
                "b",
                "bee",
            ]);
        }
    }
    s.c("XDEL stream 1-1 1-5 1-100 1-101 1-250");
    s.c("XGROUP CREATE stream g1 0");
    s.c("XGROUP CREATE stream g2 $");
    s.c("XREADGROUP GROUP g1 alice COUNT 3 STREAMS stream >");
    s.c("XREADGROUP GROUP g1 bob COUNT 2 STREAMS stream >");
    s.c("XACK stream g1 1-3");
    s.c("XGROUP CREATECONSUMER stream g2 carol");
    s.c("XADD stream:empty 5-5 a b");
    s.c("XDEL stream:empty 5-5");
    s.c("XGROUP CREATE stream:groups g 0 MKSTREAM");

    s.c("SELECT 1");
    s.c("SET db1:key in-db-1");
    s.c("SELECT 2");
    s.c("HSET db2:hash a b");
    s.c("EXPIRE db2:hash 100000");
    s.c("SELECT 0");
    s.cmd(&["FUNCTION", "LOAD", LIBRARY]);
}

const LIBRARY: &str =
    "#!lua name=mylib\nredis.register_function('myfunc', function(keys, args) return 1 end)";

/// The thresholds the server runs with.
fn limits(s: &mut Server) -> Limits {
    let mut get = |name: &str| -> i64 {
        let r = s.cmd(&["CONFIG", "GET", name]);
        String::from_utf8(r.array()[1].bytes())
            .unwrap()
            .parse()
            .unwrap()
    };
    Limits {
        hash: shoal_keyspace::hash::Limits::new(
            get("hash-max-listpack-entries"),
            get("hash-max-listpack-value"),
        ),
        zset: shoal_keyspace::ZLimits::new(
            get("zset-max-listpack-entries"),
            get("zset-max-listpack-value"),
        ),
        set_max_intset_entries: get("set-max-intset-entries") as usize,
        list_fill: get("list-max-listpack-size"),
        stream_node_max_bytes: get("stream-node-max-bytes"),
        stream_node_max_entries: get("stream-node-max-entries"),
    }
}

#[test]
fn redis_files_and_dumps_read_back() {
    let Some(mut s) = Server::start() else {
        return;
    };
    fill(&mut s);
    let limits = limits(&mut s);
    s.c("SAVE");
    let file = std::fs::read(s.dir.path().join("dump.rdb")).unwrap();
    for deep in [false, true] {
        let opts = ReadOptions {
            limits,
            deep_sanitize: deep,
            ignore_checksum: false,
        };
        let mut r = FileReader::new(&file[..], opts).unwrap();
        assert_eq!(r.version(), 10);
        let mut db = 0usize;
        let mut aux = BTreeMap::new();
        let mut functions = Vec::new();
        let mut keys: BTreeMap<(usize, Vec<u8>), (Value, Option<i64>)> = BTreeMap::new();
        while let Some(item) = r.next_item().unwrap() {
            match item {
                Item::Aux { key, value } => {
                    aux.insert(key, value);
                }
                Item::SelectDb(d) => db = d,
                Item::ResizeDb { .. } => {}
                Item::Entry {
                    key,
                    value,
                    expire_ms,
                    ..
                } => {
                    keys.insert((db, key), (value, expire_ms));
                }
                Item::Function(code) => functions.push(code),
            }
        }
        assert_eq!(r.offset() as usize, file.len());
        assert_eq!(aux[&b"redis-ver"[..]], b"7.0.15");
        assert_eq!(aux[&b"redis-bits"[..]], b"64");
        assert!(aux.contains_key(&b"ctime"[..]));
        assert_eq!(functions, vec![LIBRARY.as_bytes().to_vec()]);
        let mut count = 0;
        for d in 0..3 {
            s.cmd(&["SELECT", &d.to_string()]);
            let all = s.c("KEYS *");
            for k in all.array() {
                let k = k.bytes();
                let (v, exp) = keys
                    .get(&(d, k.clone()))
                    .unwrap_or_else(|| panic!("{} missing", String::from_utf8_lossy(&k)));
                check(&mut s, &k, v, &opts);
                let pexp = s.cmd(&[b"PEXPIRETIME".as_ref(), &k]).int();
                assert_eq!(exp.unwrap_or(-1), pexp, "TTL");
                count += 1;
            }
        }
        assert_eq!(count, keys.len());
        assert!(count >= 25);
        eprintln!("checked {count} keys from the file (deep: {deep})");
    }

    // DUMP payloads: type byte, body, 2-byte version, 8-byte CRC64.
    s.c("SELECT 0");
    let opts = ReadOptions {
        limits,
        deep_sanitize: true,
        ignore_checksum: false,
    };
    let all = s.c("KEYS *");
    for k in all.array() {
        let k = k.bytes();
        let p = s.cmd(&[b"DUMP".as_ref(), &k]).bytes();
        assert!(p.len() > 11);
        assert_eq!(&p[p.len() - 10..p.len() - 8], &[10, 0]);
        for deep in [false, true] {
            let o = ReadOptions {
                deep_sanitize: deep,
                ..opts
            };
            let v = value_from_bytes(p[0], &p[1..p.len() - 10], &o)
                .unwrap_or_else(|e| panic!("DUMP of {}: {e}", String::from_utf8_lossy(&k)));
            check(&mut s, &k, &v, &o);
        }
    }
    // No reply comes back: the connection just closes (Drop reaps the process).
    let _ = s.conn.get_mut().write_all(b"SHUTDOWN NOSAVE\r\n");
    let _ = s.child.wait();
}
