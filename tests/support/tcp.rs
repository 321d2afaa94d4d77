//! A plain TCP server written here, on a thread: accepts and holds, closes, resets, answers
//! fixed bytes or hands each connection to the test's own handler — the far end of
//! reachability tests, of proxy tunnels and of hostile peers. [`tls_server_config`] is the
//! rustls side for handlers that speak TLS.

use super::{sockaddr, Place};
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// A connection handler for [`TcpBehaviour::Serve`].
#[derive(Clone)]
pub struct Handler(pub Arc<dyn Fn(TcpStream) + Send + Sync>);

impl std::fmt::Debug for Handler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Handler")
    }
}

/// What a [`TcpServer`] does with each connection.
#[derive(Debug, Clone)]
pub enum TcpBehaviour {
    /// Accepts and keeps the connection open, silent, until the server stops.
    Hold,
    /// Accepts and closes at once (FIN).
    Close,
    /// Accepts and resets the connection (RST).
    Reset,
    /// Writes these bytes, then closes after the peer is done sending (or 2 s).
    Reply(Vec<u8>),
    /// Reads what the peer sends first (a ClientHello), then closes.
    CloseAfterRead,
    /// Reads what the peer sends first, answers these bytes and keeps the connection open.
    AnswerAndHold(Vec<u8>),
    /// Hands each connection (blocking) to the handler, on a thread of its own.
    Serve(Handler),
}

impl TcpBehaviour {
    /// [`TcpBehaviour::Serve`] with `handler`.
    pub fn serve(handler: impl Fn(TcpStream) + Send + Sync + 'static) -> TcpBehaviour {
        TcpBehaviour::Serve(Handler(Arc::new(handler)))
    }
}

/// A TCP listener on a thread. Stops (closing every connection) on drop.
pub struct TcpServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    accepted: Arc<AtomicUsize>,
    thread: Option<JoinHandle<()>>,
}

impl TcpServer {
    /// Listens on `addr` at `place` (port 0 picks one; see [`TcpServer::addr`]). Ready on return.
    pub fn start<'a>(place: impl Into<Place<'a>>, addr: impl ToSocketAddrs, behaviour: TcpBehaviour) -> TcpServer {
        let place = place.into();
        let addr = sockaddr(addr);
        let listener = place
            .run(|| TcpListener::bind(addr))
            .unwrap_or_else(|e| panic!("TCP server cannot listen on {addr} in {}: {e}", place.describe()));
        let addr = listener.local_addr().unwrap_or(addr);
        listener.set_nonblocking(true).unwrap_or_else(|e| panic!("TCP server on {addr}: {e}"));
        let stop = Arc::new(AtomicBool::new(false));
        let accepted = Arc::new(AtomicUsize::new(0));
        let thread = {
            let (stop, accepted) = (stop.clone(), accepted.clone());
            std::thread::spawn(move || serve(listener, behaviour, &stop, &accepted))
        };
        TcpServer { addr, stop, accepted, thread: Some(thread) }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Keeps the server for the rest of the test process (no guard to hold); its address.
    pub fn keep(self) -> SocketAddr {
        let addr = self.addr;
        std::mem::forget(self);
        addr
    }

    /// How many connections it accepted so far.
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::Relaxed)
    }
}

impl Drop for TcpServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(listener: TcpListener, behaviour: TcpBehaviour, stop: &AtomicBool, accepted: &AtomicUsize) {
    let mut held = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        let stream = match listener.accept() {
            Ok((s, _)) => s,
            Err(_) => {
                std::thread::sleep(Duration::from_millis(5));
                continue;
            }
        };
        accepted.fetch_add(1, Ordering::Relaxed);
        let _ = stream.set_nonblocking(false);
        match &behaviour {
            TcpBehaviour::Hold => held.push(stream),
            TcpBehaviour::Close => drop(stream),
            TcpBehaviour::Reset => reset(stream),
            TcpBehaviour::Reply(bytes) => {
                let bytes = bytes.clone();
                std::thread::spawn(move || reply(stream, &bytes));
            }
            TcpBehaviour::CloseAfterRead => {
                std::thread::spawn(move || drop(read_first(stream)));
            }
            TcpBehaviour::AnswerAndHold(bytes) => {
                let mut stream = read_first(stream);
                let _ = stream.write_all(bytes);
                held.push(stream);
            }
            TcpBehaviour::Serve(handler) => {
                let handler = handler.clone();
                std::thread::spawn(move || (handler.0)(stream));
            }
        }
    }
}

/// A rustls server configuration (ring, safe default versions, no client authentication)
/// serving the certificates of the PEM file `chain` with the PEM key `key`.
pub fn tls_server_config(chain: &std::path::Path, key_file: &std::path::Path) -> Arc<rustls::ServerConfig> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(chain)
        .unwrap_or_else(|e| panic!("{}: {e:?}", chain.display()))
        .map(|c| c.unwrap_or_else(|e| panic!("{}: {e:?}", chain.display())))
        .collect();
    let key = PrivateKeyDer::from_pem_file(key_file).unwrap_or_else(|e| panic!("{}: {e:?}", key_file.display()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Arc::new(
        rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .unwrap_or_else(|e| panic!("{} with {}: {e}", chain.display(), key_file.display())),
    )
}

/// Reads once (up to 4 KiB, 2 s at most) what the peer sends first.
fn read_first(mut stream: TcpStream) -> TcpStream {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let mut buf = [0u8; 4096];
    let _ = stream.read(&mut buf);
    let _ = stream.set_read_timeout(None);
    stream
}

fn reset(stream: TcpStream) {
    let linger = libc::linger { l_onoff: 1, l_linger: 0 };
    // SAFETY: setsockopt with a valid fd and a correctly sized linger struct.
    unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        );
    }
    drop(stream);
}

fn reply(mut stream: TcpStream, bytes: &[u8]) {
    let _ = stream.write_all(bytes);
    let _ = stream.flush();
    let _ = stream.shutdown(Shutdown::Write);
    // Drain what the peer sends so closing does not turn into a reset.
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let mut buf = [0u8; 4096];
    while matches!(stream.read(&mut buf), Ok(n) if n > 0) {}
}
