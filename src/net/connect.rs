//! TCP connections: one attempt to one address with its failure told apart (timeout: packets
//! dropped, refused: a reset, unreachable: no route), the first of several addresses that
//! accepts, or a tunnel through the proxy — and the [`Path`] a host was found reachable by, to
//! open the same way again.

use super::proxy::{self, ProxyError};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::TcpStream;
use url::Url;

/// `host:port`, `[v6]:port` or a bare name or address, split; `default_port` when the port is
/// missing or not a number.
pub fn split_host_port(addr: &str, default_port: u16) -> (String, u16) {
    if let Some(rest) = addr.strip_prefix('[') {
        if let Some((host, port)) = rest.split_once(']') {
            return (host.to_string(), port.strip_prefix(':').and_then(|p| p.parse().ok()).unwrap_or(default_port));
        }
    }
    match addr.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => (h.to_string(), p.parse().unwrap_or(default_port)),
        _ => (addr.to_string(), default_port),
    }
}

/// The result of one connection attempt.
#[derive(Debug)]
pub enum Attempt {
    Connected(TcpStream),
    Timeout,
    Refused,
    Unreachable(String),
}

/// Connects once to `addr`, classifying the failure.
pub async fn attempt(addr: SocketAddr, timeout: Duration) -> Attempt {
    match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
        Err(_) => Attempt::Timeout,
        Ok(Ok(s)) => Attempt::Connected(s),
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => Attempt::Refused,
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::TimedOut => Attempt::Timeout,
        Ok(Err(e)) => Attempt::Unreachable(e.to_string()),
    }
}

/// Why no connection could be opened.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("{addr}: timeout")]
    Timeout { addr: SocketAddr },
    #[error("{addr}: {source}")]
    Failed { addr: SocketAddr, source: std::io::Error },
    #[error("no reachable address")]
    NoAddress,
    #[error(transparent)]
    Proxy(#[from] ProxyError),
}

impl ConnectError {
    /// Whether the last address tried refused the connection.
    pub fn refused(&self) -> bool {
        matches!(self, ConnectError::Failed { source, .. } if source.kind() == std::io::ErrorKind::ConnectionRefused)
    }
}

/// Connects to the first of `addrs` that accepts, in order, each attempt bounded by `timeout`;
/// the error is the last address's.
pub async fn first_of(addrs: &[SocketAddr], timeout: Duration) -> Result<TcpStream, ConnectError> {
    let mut last = ConnectError::NoAddress;
    for addr in addrs {
        match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
            Ok(Ok(s)) => return Ok(s),
            Ok(Err(source)) => last = ConnectError::Failed { addr: *addr, source },
            Err(_) => last = ConnectError::Timeout { addr: *addr },
        }
    }
    Err(last)
}

/// How a host was found reachable: the addresses that accepted a connection, or the proxy to
/// tunnel through.
#[derive(Clone, Debug)]
pub struct Path {
    pub host: String,
    pub port: u16,
    /// Addresses that accepted a connection (empty when going through the proxy).
    pub reachable: Vec<SocketAddr>,
    /// The proxy to tunnel through, if any.
    pub proxy: Option<Url>,
}

impl Path {
    /// Opens a fresh connection along this path (the first reachable address that accepts, or a
    /// CONNECT tunnel), bounded by `timeout`.
    pub async fn connect(&self, timeout: Duration) -> Result<TcpStream, ConnectError> {
        match &self.proxy {
            Some(p) => Ok(proxy::connect(p, &self.host, self.port, timeout).await?),
            None => first_of(&self.reachable, timeout).await,
        }
    }

    /// Where this path leads, for messages: the first reachable address, or the host through
    /// the proxy.
    pub fn describe(&self) -> String {
        match (&self.proxy, self.reachable.first()) {
            (Some(p), _) => format!("{}:{} via {}", self.host, self.port, proxy::display_url(p)),
            (None, Some(a)) => a.to_string(),
            (None, None) => format!("{}:{}", self.host, self.port),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn refused_and_connected_told_apart() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let open = listener.local_addr().unwrap();
        let closed = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap()
        };
        assert!(matches!(attempt(closed, Duration::from_secs(2)).await, Attempt::Refused));
        assert!(matches!(attempt(open, Duration::from_secs(2)).await, Attempt::Connected(_)));
        let err = first_of(&[closed], Duration::from_secs(2)).await.unwrap_err();
        assert!(err.refused() && err.to_string().starts_with(&closed.to_string()), "{err}");
        let s = first_of(&[closed, open], Duration::from_secs(2)).await.unwrap();
        assert_eq!(s.peer_addr().unwrap(), open);
        assert!(matches!(first_of(&[], Duration::from_secs(1)).await, Err(ConnectError::NoAddress)));
    }
}
