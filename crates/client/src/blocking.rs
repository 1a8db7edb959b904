//! The blocking client over `std` sockets, for the CLI and for tests.
//!
//! A [`Client`] owns one connection. `call` is `send` + `read_frame`. For streams
//! (`MONITOR`, `SUBSCRIBE`) keep calling `read_frame`; for full-duplex work (the
//! CLI's `--pipe`) split the client into a [`ClientReader`] and a [`ClientWriter`]
//! that can live on different threads.

use crate::readbuf::ReadBuf;
use crate::{Addr, ClientError, Frame, FrameExt, ToAddr};
use bytes::BytesMut;
use shoal_resp::encode_command;
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream, ToSocketAddrs};
use std::os::unix::net::UnixStream;
use std::time::Duration;

enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Stream {
    fn try_clone(&self) -> io::Result<Stream> {
        Ok(match self {
            Stream::Tcp(s) => Stream::Tcp(s.try_clone()?),
            Stream::Unix(s) => Stream::Unix(s.try_clone()?),
        })
    }

    fn set_read_timeout(&self, t: Option<Duration>) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.set_read_timeout(t),
            Stream::Unix(s) => s.set_read_timeout(t),
        }
    }

    fn set_write_timeout(&self, t: Option<Duration>) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.set_write_timeout(t),
            Stream::Unix(s) => s.set_write_timeout(t),
        }
    }

    fn shutdown(&self) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.shutdown(Shutdown::Both),
            Stream::Unix(s) => s.shutdown(Shutdown::Both),
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.read(buf),
            Stream::Unix(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.write(buf),
            Stream::Unix(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn connect_stream(addr: &Addr, timeout: Option<Duration>) -> Result<Stream, ClientError> {
    match addr {
        Addr::Unix(path) => Ok(Stream::Unix(UnixStream::connect(path)?)),
        Addr::Tcp { host, port } => {
            let addrs: Vec<_> = (host.as_str(), *port).to_socket_addrs()?.collect();
            let mut last = ClientError::Addr(format!("{addr} resolves to no address"));
            for sa in addrs {
                let r = match timeout {
                    Some(t) => TcpStream::connect_timeout(&sa, t),
                    None => TcpStream::connect(sa),
                };
                match r {
                    Ok(s) => {
                        // Commands are small and latency matters more than packet count.
                        let _ = s.set_nodelay(true);
                        return Ok(Stream::Tcp(s));
                    }
                    Err(e) => last = e.into(),
                }
            }
            Err(last)
        }
    }
}

/// A blocking connection to one server.
pub struct Client {
    addr: Addr,
    reader: ClientReader,
    writer: ClientWriter,
}

impl Client {
    /// Connects over TCP or a Unix socket. `timeout` bounds the TCP connect only;
    /// reads and writes block until [`Client::set_timeout`] says otherwise.
    pub fn connect(
        addr: impl ToAddr,
        timeout: impl Into<Option<Duration>>,
    ) -> Result<Client, ClientError> {
        let addr = addr.to_addr()?;
        let stream = connect_stream(&addr, timeout.into())?;
        let write_half = stream.try_clone()?;
        Ok(Client {
            addr,
            reader: ClientReader {
                stream,
                rbuf: ReadBuf::default(),
            },
            writer: ClientWriter {
                stream: write_half,
                wbuf: BytesMut::new(),
            },
        })
    }

    /// The address this client connected to.
    pub fn addr(&self) -> &Addr {
        &self.addr
    }

    /// Read and write deadlines for every later operation (`None`: block forever).
    pub fn set_timeout(&mut self, t: Option<Duration>) -> Result<(), ClientError> {
        self.reader.stream.set_read_timeout(t)?;
        self.writer.stream.set_write_timeout(t)?;
        Ok(())
    }

    /// Sends one command and reads its reply. Error replies are `Ok(Frame::Error)`.
    pub fn call<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Result<Frame, ClientError> {
        self.send(args)?;
        self.read_frame()
    }

    /// Sends several commands in one write, then reads one reply per command.
    pub fn pipeline<C, A>(&mut self, cmds: &[C]) -> Result<Vec<Frame>, ClientError>
    where
        C: AsRef<[A]>,
        A: AsRef<[u8]>,
    {
        self.writer.wbuf.clear();
        for c in cmds {
            encode_command(c.as_ref(), &mut self.writer.wbuf);
        }
        self.writer.write_buffered()?;
        cmds.iter().map(|_| self.read_frame()).collect()
    }

    /// Writes one command without waiting for its reply.
    pub fn send<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Result<(), ClientError> {
        self.writer.send(args)
    }

    /// Writes bytes that are already RESP (or inline commands) as they are.
    pub fn send_raw(&mut self, bytes: &[u8]) -> Result<(), ClientError> {
        self.writer.send_raw(bytes)
    }

    /// Reads the next reply, waiting for it. `Err(Closed)` when the server hangs up.
    pub fn read_frame(&mut self) -> Result<Frame, ClientError> {
        self.reader.read_frame()
    }

    /// `AUTH [user] password`; an error reply becomes `ClientError::Server`.
    pub fn auth(&mut self, user: Option<&[u8]>, password: &[u8]) -> Result<(), ClientError> {
        let reply = match user {
            Some(u) => self.call(&[&b"AUTH"[..], u, password])?,
            None => self.call(&[&b"AUTH"[..], password])?,
        };
        expect_ok(reply)
    }

    /// `SELECT db`; an error reply becomes `ClientError::Server`.
    pub fn select(&mut self, db: i64) -> Result<(), ClientError> {
        let reply = self.call(&["SELECT".to_string(), db.to_string()])?;
        expect_ok(reply)
    }

    /// `HELLO protover`, returning the server's description (a map in RESP3).
    pub fn hello(&mut self, protover: u8) -> Result<Frame, ClientError> {
        let reply = self.call(&["HELLO".to_string(), protover.to_string()])?;
        match reply.error_text() {
            Some(e) => Err(ClientError::Server(bytes::Bytes::copy_from_slice(e))),
            None => Ok(reply),
        }
    }

    /// Splits into independently usable halves (for example a reader thread).
    pub fn into_split(self) -> (ClientReader, ClientWriter) {
        (self.reader, self.writer)
    }

    /// Closes both directions now; later reads see `Closed`.
    pub fn shutdown(&self) {
        let _ = self.reader.stream.shutdown();
    }
}

pub(crate) fn expect_ok(reply: Frame) -> Result<(), ClientError> {
    match reply.error_text() {
        Some(e) => Err(ClientError::Server(bytes::Bytes::copy_from_slice(e))),
        None => Ok(()),
    }
}

/// The receiving half of a [`Client`].
pub struct ClientReader {
    stream: Stream,
    rbuf: ReadBuf,
}

impl ClientReader {
    /// Reads the next reply, waiting for it.
    pub fn read_frame(&mut self) -> Result<Frame, ClientError> {
        loop {
            if let Some(f) = self.rbuf.try_frame()? {
                return Ok(f);
            }
            let spare = self.rbuf.spare();
            let spare_len = spare.len();
            let r = loop {
                match self.stream.read(spare) {
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    r => break r,
                }
            };
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

    /// A reply that is already complete in the buffer, without reading the socket.
    pub fn buffered_frame(&mut self) -> Result<Option<Frame>, ClientError> {
        self.rbuf.try_frame()
    }

    /// Bytes received but not parsed yet.
    pub fn pending(&self) -> usize {
        self.rbuf.pending()
    }

    /// Read deadline (`None`: block forever).
    pub fn set_timeout(&mut self, t: Option<Duration>) -> Result<(), ClientError> {
        Ok(self.stream.set_read_timeout(t)?)
    }
}

/// The sending half of a [`Client`].
pub struct ClientWriter {
    stream: Stream,
    wbuf: BytesMut,
}

impl ClientWriter {
    /// Writes one command.
    pub fn send<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Result<(), ClientError> {
        self.wbuf.clear();
        encode_command(args, &mut self.wbuf);
        self.write_buffered()
    }

    /// Writes bytes as they are.
    pub fn send_raw(&mut self, bytes: &[u8]) -> Result<(), ClientError> {
        Ok(self.stream.write_all(bytes)?)
    }

    fn write_buffered(&mut self) -> Result<(), ClientError> {
        let r = self.stream.write_all(&self.wbuf);
        self.wbuf.clear();
        Ok(r?)
    }

    /// Write deadline (`None`: block forever).
    pub fn set_timeout(&mut self, t: Option<Duration>) -> Result<(), ClientError> {
        Ok(self.stream.set_write_timeout(t)?)
    }

    /// Closes the connection in both directions, waking a blocked reader.
    pub fn shutdown(&self) {
        let _ = self.stream.shutdown();
    }
}
