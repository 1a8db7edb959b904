//! The tokio client against a real server.

mod common;

use shoal_client::{Addr, AsyncClient, ClientError, Frame, FrameExt};
use std::time::Duration;

#[tokio::test]
async fn call_pipeline_and_resp3() {
    let srv = server_or_skip!();
    let mut c = AsyncClient::connect(srv.addr(), Duration::from_secs(2))
        .await
        .unwrap();
    assert!(matches!(
        c.call(&["SET", "k", "v"]).await.unwrap(),
        Frame::Simple(_)
    ));
    assert_eq!(
        c.call(&["GET", "k"]).await.unwrap().as_bytes().unwrap(),
        b"v"
    );
    for _ in 0..500 {
        c.send(&["INCR", "n"]).await.unwrap();
    }
    for i in 1..=500 {
        assert_eq!(c.read_frame().await.unwrap().as_int(), Some(i));
    }
    let r = c.pipeline(&[["GET", "n"], ["DEL", "n"]]).await.unwrap();
    assert_eq!(r[0].as_int(), Some(500));
    assert!(matches!(c.hello(3).await.unwrap(), Frame::Map(_)));
    assert!(matches!(
        c.call(&["GET", "none"]).await.unwrap(),
        Frame::Null
    ));
}

#[tokio::test]
async fn unix_socket_select_and_timeout() {
    let srv = server_or_skip!();
    let mut c = AsyncClient::connect(Addr::unix(&srv.socket), None)
        .await
        .unwrap();
    c.select(2).await.unwrap();
    assert!(matches!(
        c.select(10_000).await,
        Err(ClientError::Server(_))
    ));
    c.send(&["BLPOP", "nothing", "0"]).await.unwrap();
    let e = c
        .read_frame_timeout(Duration::from_millis(100))
        .await
        .unwrap_err();
    assert!(e.is_timeout());
}

#[tokio::test]
async fn hangup_is_closed() {
    let srv = server_or_skip!();
    let mut c = AsyncClient::connect(srv.addr(), None).await.unwrap();
    c.call(&["QUIT"]).await.unwrap();
    assert!(matches!(c.read_frame().await, Err(ClientError::Closed)));
}
