//! Free loopback ports for the servers a test starts. They are picked below the kernel's
//! ephemeral range (32768–60999 by default), so no outgoing connection of a test running in
//! parallel can take the port between the check here and the server's own bind.

use std::net::{TcpListener, UdpSocket};
use std::sync::atomic::{AtomicU32, Ordering};

const FIRST: u32 = 20_000;
const COUNT: u32 = 12_000;

fn pick(free: impl Fn(u16) -> bool) -> u16 {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    // Each test process starts somewhere else in the range and walks it with a stride.
    let seed = std::process::id().wrapping_mul(2_654_435_761)
        ^ std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    for _ in 0..COUNT {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let port = FIRST + seed.wrapping_add(n.wrapping_mul(7_919)) % COUNT;
        if free(port as u16) {
            return port as u16;
        }
    }
    panic!("no free port between {FIRST} and {}", FIRST + COUNT);
}

/// A TCP port nothing listens on, on 127.0.0.1.
pub fn tcp() -> u16 {
    pick(|p| TcpListener::bind(("127.0.0.1", p)).is_ok())
}

/// A UDP port nothing is bound to, on 127.0.0.1.
#[allow(dead_code)]
pub fn udp() -> u16 {
    pick(|p| UdpSocket::bind(("127.0.0.1", p)).is_ok())
}
