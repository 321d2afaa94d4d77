//! What the certificate/TLS tests share besides the harness: the one certificate factory
//! ([`super::Pki`], with its fixed hierarchy and in-memory [`Issued`]/[`Spec`]/[`issue`]),
//! hostile TCP servers, and the run of the binary these tests make. nginx, the run's result
//! and the report lookups are the harness's own ([`super::Nginx`], [`super::Run`],
//! [`super::report`]).

pub use super::isrg_x1;
pub use super::pki::{ec_key, issue, now, rsa_key, same_key, Issued, Pki, Spec, DAY};
pub use super::report::{check, codes, finding};
pub use super::{CheckArgs, Nginx, Run};
use super::{Host, RunExt};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    super::free_port(Host)
}

/// A hostile TLS "server": accepts connections and misbehaves in the given way.
pub enum Hostile {
    /// Reads the ClientHello and closes.
    CloseMidHandshake,
    /// Answers garbage bytes.
    Garbage,
    /// Accepts and says nothing.
    Silent,
}

/// Starts a hostile server on a free port; it lives as long as the test process.
pub fn hostile(kind: Hostile) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            let mut buf = [0u8; 4096];
            match kind {
                Hostile::CloseMidHandshake => {
                    let _ = s.read(&mut buf);
                    drop(s);
                }
                Hostile::Garbage => {
                    let _ = s.read(&mut buf);
                    let _ = s.write_all(b"\x00\x01garbage that is not TLS at all\r\n\r\n");
                    held.push(s);
                }
                Hostile::Silent => held.push(s),
            }
        }
    });
    port
}

/// A listener that accepts TCP connections and never answers (a held long-poll upstream).
pub fn black_hole() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in l.incoming().flatten() {
            held.push(s);
        }
    });
    addr
}

/// Runs pen-doctor with `args` and extra environment variables, in the harness's clean
/// environment (no proxy, no CA bundle from the environment) and without colours.
pub fn pen_doctor(args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = super::pen_doctor(Host);
    cmd.args(args).env("NO_COLOR", "1").envs(env.iter().copied());
    cmd.run()
}
