//! Listeners: TCP on every `bind` address and the optional Unix socket, and the
//! admission checks applied to each accepted connection (maxclients, protected mode).

use crate::client::{cflag, ClientInfo};
use crate::server::{unix_ms, Server};
use socket2::{Domain, Protocol, SockAddr, Socket, TcpKeepalive, Type};
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, UnixListener};

pub const MAX_CLIENTS_REACHED: &str = "-ERR max number of clients reached\r\n";

pub const PROTECTED_MODE_DENIED: &str = "-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Set up an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n";

/// Binds every configured TCP address. An address prefixed with `-` is optional
/// (its failure is ignored, as for Redis's default `* -::*`). Port 0 disables TCP.
pub fn bind_tcp(
    addrs: &[String],
    port: u16,
    backlog: i32,
) -> Result<Vec<std::net::TcpListener>, String> {
    let mut out = Vec::new();
    if port == 0 {
        return Ok(out);
    }
    for a in addrs {
        let (optional, host) = match a.strip_prefix('-') {
            Some(h) => (true, h),
            None => (false, a.as_str()),
        };
        let ip: IpAddr = match host {
            "*" => "0.0.0.0".parse().map_err(|_| "bad address".to_string())?,
            "::*" => "::".parse().map_err(|_| "bad address".to_string())?,
            h => match h.parse() {
                Ok(ip) => ip,
                Err(_) => {
                    if optional {
                        continue;
                    }
                    return Err(format!(
                        "Could not create server TCP listening socket {host}:{port}: bind: Cannot assign requested address"
                    ));
                }
            },
        };
        let sa = SocketAddr::new(ip, port);
        match bind_one(sa, backlog) {
            Ok(l) => out.push(l),
            Err(e) if optional && e.kind() != std::io::ErrorKind::AddrInUse => {}
            Err(e) => {
                return Err(format!(
                    "Could not create server TCP listening socket {host}:{port}: bind: {}",
                    io_error_text(&e)
                ))
            }
        }
    }
    Ok(out)
}

fn io_error_text(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::AddrInUse => "Address already in use".to_string(),
        std::io::ErrorKind::AddrNotAvailable => "Cannot assign requested address".to_string(),
        _ => e.to_string(),
    }
}

fn bind_one(sa: SocketAddr, backlog: i32) -> std::io::Result<std::net::TcpListener> {
    let domain = if sa.is_ipv6() {
        Domain::IPV6
    } else {
        Domain::IPV4
    };
    let sock = Socket::new(domain, Type::STREAM, Some(Protocol::TCP))?;
    sock.set_reuse_address(true)?;
    if sa.is_ipv6() {
        sock.set_only_v6(true)?;
    }
    sock.bind(&SockAddr::from(sa))?;
    sock.listen(backlog.max(1))?;
    sock.set_nonblocking(true)?;
    Ok(sock.into())
}

/// Starts accept loops for bound listeners, as the current listener generation.
pub fn start_tcp(srv: &Arc<Server>, listeners: Vec<std::net::TcpListener>) -> std::io::Result<()> {
    let gen = *srv.listen_gen.borrow();
    let token = srv.listen_token.lock().clone();
    for l in listeners {
        let l = TcpListener::from_std(l)?;
        tokio::spawn(accept_tcp(srv.clone(), l, gen, token.clone()));
    }
    Ok(())
}

/// Replaces the TCP listeners with ones for the configured `bind` and `port`
/// (CONFIG SET). The old ones are closed first, since the new set may reuse
/// their addresses. Returns Redis's error detail on failure; the caller then
/// restores the old configuration and calls this again.
pub async fn rebind(srv: &Arc<Server>) -> Result<(), String> {
    let old = std::mem::replace(&mut *srv.listen_token.lock(), Arc::new(()));
    srv.listen_gen.send_modify(|g| *g += 1);
    // Wait (bounded) for the old accept loops to drop their listeners.
    for _ in 0..400 {
        if Arc::strong_count(&old) == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let (bind, port, backlog) = {
        let c = srv.config.read();
        (
            c.bind_addrs(),
            c.int("port").clamp(0, 65535) as u16,
            c.int("tcp-backlog") as i32,
        )
    };
    let listeners = bind_tcp(&bind, port, backlog).inspect_err(|e| crate::warning!("{e}"))?;
    start_tcp(srv, listeners).map_err(|e| e.to_string())?;
    srv.tcp_port.store(port as usize, Relaxed);
    Ok(())
}

/// Accepts TCP connections until shutdown or until its generation is replaced.
async fn accept_tcp(srv: Arc<Server>, listener: TcpListener, gen: u64, _token: Arc<()>) {
    let mut shutdown = srv.shutdown_rx();
    let mut generation = srv.listen_gen.subscribe();
    loop {
        if *generation.borrow_and_update() != gen {
            return;
        }
        let accepted = tokio::select! {
            _ = shutdown.changed() => return,
            _ = generation.changed() => continue,
            r = listener.accept() => r,
        };
        let (stream, peer) = match accepted {
            Ok(x) => x,
            Err(e) => {
                crate::warning!("Accepting client connection: {e}");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let mut stream = stream;
        if !admit(&srv, &mut stream, Some(peer.ip())).await {
            continue;
        }
        let _ = stream.set_nodelay(true);
        let keepalive = srv.config.read().int("tcp-keepalive");
        if keepalive > 0 {
            let sock = socket2::SockRef::from(&stream);
            let ka = TcpKeepalive::new().with_time(Duration::from_secs(keepalive as u64));
            let _ = sock.set_tcp_keepalive(&ka);
        }
        let laddr = stream
            .local_addr()
            .map(|a| fmt_addr(&a))
            .unwrap_or_default();
        let fd = {
            use std::os::fd::AsRawFd;
            stream.as_raw_fd() as i64
        };
        let info = Arc::new(ClientInfo::new(
            srv.clients.next_id(),
            fmt_addr(&peer),
            laddr,
            fd,
            unix_ms(),
        ));
        if let Ok(std_stream) = stream.into_std() {
            hand_over(&srv, std_stream, info, tokio::net::TcpStream::from_std);
        }
    }
}

/// Accepts Unix socket connections until shutdown.
pub async fn accept_unix(srv: Arc<Server>, listener: UnixListener, path: String) {
    let mut shutdown = srv.shutdown_rx();
    loop {
        let accepted = tokio::select! {
            _ = shutdown.changed() => return,
            r = listener.accept() => r,
        };
        let Ok((mut stream, _)) = accepted else {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        if !admit(&srv, &mut stream, None).await {
            continue;
        }
        let fd = {
            use std::os::fd::AsRawFd;
            stream.as_raw_fd() as i64
        };
        let info = Arc::new(ClientInfo::new(
            srv.clients.next_id(),
            format!("{path}:0"),
            format!("{path}:0"),
            fd,
            unix_ms(),
        ));
        info.set_flag(cflag::UNIX_SOCKET, true);
        if let Ok(std_stream) = stream.into_std() {
            hand_over(&srv, std_stream, info, tokio::net::UnixStream::from_std);
        }
    }
}

/// Counts a new connection and decides whether to serve it; a refused one gets
/// the reason written to it (and is closed by the caller dropping it).
async fn admit<S: AsyncWrite + Unpin>(srv: &Server, stream: &mut S, peer: Option<IpAddr>) -> bool {
    srv.total_connections.fetch_add(1, Relaxed);
    match refuse(srv, peer) {
        None => true,
        Some(reason) => {
            srv.rejected_connections.fetch_add(1, Relaxed);
            let _ = stream.write_all(reason.as_bytes()).await;
            false
        }
    }
}

/// Starts serving an accepted socket on the next worker. The socket is registered
/// with that worker's reactor (`register` runs there), so its readiness events wake
/// the task on its own thread.
fn hand_over<T, S>(
    srv: &Arc<Server>,
    std_stream: T,
    info: Arc<ClientInfo>,
    register: fn(T) -> std::io::Result<S>,
) where
    T: Send + 'static,
    S: crate::conn::Split + Send + 'static,
    S::R: Send,
    S::W: Send,
{
    let srv2 = srv.clone();
    srv.spawn_connection(async move {
        if let Ok(stream) = register(std_stream) {
            crate::conn::serve(srv2, stream, info).await;
        }
    });
}

/// Why a new connection must be refused, as the raw reply to send before closing.
fn refuse(srv: &Server, peer: Option<IpAddr>) -> Option<&'static str> {
    if srv.clients.len() >= srv.hot.maxclients.load(Relaxed) {
        return Some(MAX_CLIENTS_REACHED);
    }
    if srv.hot.protected_mode.load(Relaxed) && !srv.hot.has_password.load(Relaxed) {
        if let Some(ip) = peer {
            if !is_local(ip) {
                return Some(PROTECTED_MODE_DENIED);
            }
        }
    }
    None
}

/// Redis counts only 127.0.0.1 and ::1 as local peers (not the rest of 127/8).
pub fn is_local(ip: IpAddr) -> bool {
    let localhost = std::net::Ipv4Addr::LOCALHOST;
    match ip {
        IpAddr::V4(v4) => v4 == localhost,
        IpAddr::V6(v6) => v6.is_loopback() || v6.to_ipv4_mapped() == Some(localhost),
    }
}

/// "ip:port" as Redis prints peers (IPv6 without brackets).
pub fn fmt_addr(a: &SocketAddr) -> String {
    format!("{}:{}", a.ip(), a.port())
}
