//! Handler tests for the geo commands (replies are checked against Redis by the
//! differential corpus, tests/corpus/geo.txt).

use crate::ctx::Propagate;
use crate::testing::TestDb;
use shoal_resp::Frame;

fn bulk(s: &str) -> Frame {
    Frame::Bulk(bytes::Bytes::copy_from_slice(s.as_bytes()))
}

#[test]
fn geoadd_propagates_as_zadd() {
    let mut db = TestDb::default();
    assert_eq!(
        db.cmd(&[
            "GEOADD",
            "Sicily",
            "CH",
            "13.361389",
            "38.115556",
            "Palermo"
        ]),
        Frame::Integer(1)
    );
    match &db.last_propagate {
        Propagate::Rewritten(v) => assert_eq!(
            v[0],
            ["zadd", "Sicily", "CH", "3479099956230698", "Palermo"]
                .map(|s| bytes::Bytes::copy_from_slice(s.as_bytes()))
        ),
        other => panic!("{other:?}"),
    }
    db.cmd(&["GEOADD", "Sicily", "15.087269", "37.502669", "Catania"]);
    assert_eq!(
        db.cmd(&["GEODIST", "Sicily", "Palermo", "Catania", "km"]),
        bulk("166.2742")
    );
    assert_eq!(
        db.cmd(&[
            "GEOSEARCH",
            "Sicily",
            "FROMLONLAT",
            "15",
            "37",
            "BYRADIUS",
            "200",
            "km",
            "ASC"
        ]),
        Frame::Array(vec![bulk("Catania"), bulk("Palermo")])
    );
    assert_eq!(
        db.cmd(&[
            "GEORADIUS",
            "Sicily",
            "15",
            "37",
            "200",
            "km",
            "STORE",
            "dst"
        ]),
        Frame::Integer(2)
    );
    assert_eq!(db.last_dirty, 2);
}
