//! The tokio client: the same shape as the blocking [`crate::Client`], for code
//! that runs inside the server's runtime (replication links, Sentinel, cluster).

use crate::blocking::expect_ok;
use crate::readbuf::ReadBuf;
use crate::{Addr, ClientError, Frame, FrameExt, ToAddr};
use bytes::BytesMut;
use shoal_resp::encode_command;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf as TokioReadBuf};
use tokio::net::{TcpStream, UnixStream};

enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut TokioReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Unix(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Unix(s) => Pin::new(s).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_flush(cx),
            Stream::Unix(s) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Unix(s) => Pin::new(s).poll_shutdown(cx),
        }
    }
}

async fn connect_stream(addr: &Addr) -> Result<Stream, ClientError> {
    match addr {
        Addr::Unix(path) => Ok(Stream::Unix(UnixStream::connect(path).await?)),
        Addr::Tcp { host, port } => {
            let s = TcpStream::connect((host.as_str(), *port)).await?;
            let _ = s.set_nodelay(true);
            Ok(Stream::Tcp(s))
        }
    }
}

/// An asynchronous connection to one server.
pub struct AsyncClient {
    addr: Addr,
    stream: Stream,
    rbuf: ReadBuf,
    wbuf: BytesMut,
}

impl AsyncClient {
    /// Connects over TCP or a Unix socket; `timeout` bounds the whole connect.
    pub async fn connect(
        addr: impl ToAddr,
        timeout: impl Into<Option<Duration>>,
    ) -> Result<AsyncClient, ClientError> {
        let addr = addr.to_addr()?;
        let stream = match timeout.into() {
            Some(t) => tokio::time::timeout(t, connect_stream(&addr))
                .await
                .map_err(|_| ClientError::Timeout)??,
            None => connect_stream(&addr).await?,
        };
        Ok(AsyncClient {
            addr,
            stream,
            rbuf: ReadBuf::default(),
            wbuf: BytesMut::new(),
        })
    }

    /// The address this client connected to.
    pub fn addr(&self) -> &Addr {
        &self.addr
    }

    /// Sends one command and reads its reply. Error replies are `Ok(Frame::Error)`.
    pub async fn call<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Result<Frame, ClientError> {
        self.send(args).await?;
        self.read_frame().await
    }

    /// Sends several commands in one write, then reads one reply per command.
    pub async fn pipeline<C, A>(&mut self, cmds: &[C]) -> Result<Vec<Frame>, ClientError>
    where
        C: AsRef<[A]>,
        A: AsRef<[u8]>,
    {
        self.wbuf.clear();
        for c in cmds {
            encode_command(c.as_ref(), &mut self.wbuf);
        }
        self.write_buffered().await?;
        let mut out = Vec::with_capacity(cmds.len());
        for _ in cmds {
            out.push(self.read_frame().await?);
        }
        Ok(out)
    }

    /// Writes one command without waiting for its reply.
    pub async fn send<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Result<(), ClientError> {
        self.wbuf.clear();
        encode_command(args, &mut self.wbuf);
        self.write_buffered().await
    }

    /// Writes bytes that are already RESP as they are.
    pub async fn send_raw(&mut self, bytes: &[u8]) -> Result<(), ClientError> {
        Ok(self.stream.write_all(bytes).await?)
    }

    async fn write_buffered(&mut self) -> Result<(), ClientError> {
        let r = self.stream.write_all(&self.wbuf).await;
        self.wbuf.clear();
        Ok(r?)
    }

    /// Reads the next reply. Cancel-safe: bytes already read stay buffered.
    pub async fn read_frame(&mut self) -> Result<Frame, ClientError> {
        loop {
            if let Some(f) = self.rbuf.try_frame()? {
                return Ok(f);
            }
            let spare = self.rbuf.spare();
            let spare_len = spare.len();
            let r = self.stream.read(spare).await;
            match r {
                Ok(0) => {
                    self.rbuf.filled(spare_len, 0);
                    return Err(ClientError::Closed);
                }
                Ok(n) => self.rbuf.filled(spare_len, n),
                Err(e) => {
                    self.rbuf.filled(spare_len, 0);
                    return Err(e.into());
                }
            }
        }
    }

    /// [`AsyncClient::read_frame`] with a deadline.
    pub async fn read_frame_timeout(&mut self, t: Duration) -> Result<Frame, ClientError> {
        tokio::time::timeout(t, self.read_frame())
            .await
            .map_err(|_| ClientError::Timeout)?
    }

    /// `AUTH [user] password`; an error reply becomes `ClientError::Server`.
    pub async fn auth(&mut self, user: Option<&[u8]>, password: &[u8]) -> Result<(), ClientError> {
        let reply = match user {
            Some(u) => self.call(&[&b"AUTH"[..], u, password]).await?,
            None => self.call(&[&b"AUTH"[..], password]).await?,
        };
        expect_ok(reply)
    }

    /// `SELECT db`; an error reply becomes `ClientError::Server`.
    pub async fn select(&mut self, db: i64) -> Result<(), ClientError> {
        let reply = self.call(&["SELECT".to_string(), db.to_string()]).await?;
        expect_ok(reply)
    }

    /// `HELLO protover`, returning the server's description.
    pub async fn hello(&mut self, protover: u8) -> Result<Frame, ClientError> {
        let reply = self
            .call(&["HELLO".to_string(), protover.to_string()])
            .await?;
        match reply.error_text() {
            Some(e) => Err(ClientError::Server(bytes::Bytes::copy_from_slice(e))),
            None => Ok(reply),
        }
    }

    /// Closes the write side; the server sees EOF.
    pub async fn shutdown(&mut self) -> Result<(), ClientError> {
        Ok(self.stream.shutdown().await?)
    }
}
