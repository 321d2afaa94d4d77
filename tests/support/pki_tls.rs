//! What the certificate/TLS tests share besides the harness: the one certificate factory
//! ([`super::Pki`], with its fixed hierarchy and in-memory [`Issued`]/[`Spec`]/[`issue`]),
//! hostile TCP servers, and the run of the binary these tests make. nginx, the run's result
//! and the report lookups are the harness's own ([`super::Nginx`], [`super::Run`],
//! [`super::report`]).

pub use super::isrg_x1;
pub use super::pki::{ec_key, issue, now, rsa_key, same_key, Issued, Pki, Spec, DAY};
pub use super::report::{check, codes, finding};
pub use super::{CheckArgs, Nginx, Run};
use super::{Host, RunExt, TcpBehaviour, TcpServer};
use std::net::SocketAddr;

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    super::free_port(Host)
}

/// A hostile TLS "server": accepts connections and misbehaves in the given way.
#[derive(Debug, Clone, Copy)]
pub enum Hostile {
    /// Reads the ClientHello and closes.
    CloseMidHandshake,
    /// Answers garbage bytes.
    Garbage,
    /// Accepts and says nothing.
    Silent,
}

impl Hostile {
    /// The harness's TCP server behaving so, on a free loopback port; stops on drop.
    pub fn start(self) -> TcpServer {
        let behaviour = match self {
            Hostile::CloseMidHandshake => TcpBehaviour::CloseAfterRead,
            Hostile::Garbage => TcpBehaviour::AnswerAndHold(b"\x00\x01garbage that is not TLS at all\r\n\r\n".to_vec()),
            Hostile::Silent => TcpBehaviour::Hold,
        };
        TcpServer::start(Host, "127.0.0.1:0", behaviour)
    }
}

/// [`Hostile::start`] for the rest of the test process: its port.
pub fn hostile(kind: Hostile) -> u16 {
    kind.start().keep().port()
}

/// A listener that accepts TCP connections and never answers (a held long-poll upstream),
/// for the rest of the test process ([`TcpServer`] with [`TcpBehaviour::Hold`] as a guard).
pub fn black_hole() -> SocketAddr {
    TcpServer::start(Host, "127.0.0.1:0", TcpBehaviour::Hold).keep()
}

/// Runs pen-doctor with `args` and extra environment variables, in the harness's clean
/// environment (no proxy, no CA bundle from the environment) and without colours.
pub fn pen_doctor(args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = super::pen_doctor(Host);
    cmd.args(args).env("NO_COLOR", "1").envs(env.iter().copied());
    cmd.run()
}
