//! A strings-only file written here reads back here; the scaffold's smoke test
//! (the round trips through Debian's redis-server live in tests/ of the root).

use shoal_keyspace::{Str, Value};
use shoal_rdb::encode::{write_aux, write_entry, write_resize_db, write_select_db};
use shoal_rdb::{FileReader, FileWriter, Item, ReadOptions, WriteOptions};

#[test]
fn strings_round_trip() {
    let opts = WriteOptions {
        compression: false,
        checksum: true,
    };
    let mut w = FileWriter::new(Vec::new(), opts).unwrap();
    let mut buf = Vec::new();
    write_aux(&mut buf, b"redis-ver", b"7.0.15", false);
    write_aux(&mut buf, b"redis-bits", b"64", false);
    write_select_db(&mut buf, 0);
    write_resize_db(&mut buf, 3, 1);
    write_entry(
        &mut buf,
        b"a",
        &Value::Str(Str::from_bytes(b"hello")),
        None,
        None,
        &opts,
    );
    write_entry(
        &mut buf,
        b"n",
        &Value::Str(Str::Int(-5)),
        Some(1 << 41),
        None,
        &opts,
    );
    write_entry(
        &mut buf,
        b"big",
        &Value::Str(Str::Int(1 << 40)),
        None,
        None,
        &opts,
    );
    w.raw(&buf).unwrap();
    let file = w.finish().unwrap();

    let mut r = FileReader::new(&file[..], ReadOptions::default()).unwrap();
    assert_eq!(r.version(), 10);
    let mut entries = Vec::new();
    while let Some(item) = r.next_item().unwrap() {
        if let Item::Entry {
            key,
            value,
            expire_ms,
            ..
        } = item
        {
            let Value::Str(s) = value else {
                panic!("not a string")
            };
            entries.push((key, s.to_vec(), expire_ms));
        }
    }
    assert_eq!(
        entries,
        vec![
            (b"a".to_vec(), b"hello".to_vec(), None),
            (b"n".to_vec(), b"-5".to_vec(), Some(1 << 41)),
            (b"big".to_vec(), b"1099511627776".to_vec(), None),
        ]
    );
    assert_eq!(r.offset(), file.len() as u64);

    let mut bad = file.clone();
    let n = bad.len();
    bad[n - 12] ^= 1;
    let mut r = FileReader::new(&bad[..], ReadOptions::default()).unwrap();
    let err = loop {
        match r.next_item() {
            Ok(Some(_)) => {}
            Ok(None) => panic!("corruption not detected"),
            Err(e) => break e,
        }
    };
    assert!(err.to_string().contains("offset"), "{err}");
}
