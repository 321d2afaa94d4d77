//! DNS for tests: a real dnsmasq serving a test zone (addresses, NXDOMAIN, SERVFAIL), UDP
//! responders that stay silent or answer garbage, and a tiny client to see what comes back.

use super::{sockaddr, temp_dir, which, Place, Proc};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub const QTYPE_A: u16 = 1;
pub const QTYPE_AAAA: u16 = 28;
pub const RCODE_NOERROR: u8 = 0;
pub const RCODE_SERVFAIL: u8 = 2;
pub const RCODE_NXDOMAIN: u8 = 3;
pub const RCODE_REFUSED: u8 = 5;

/// What a DNS server answered to [`dns_query`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsReply {
    pub rcode: u8,
    /// The A/AAAA addresses in the answer section.
    pub addrs: Vec<IpAddr>,
}

/// Asks `server` (over UDP, from `place`) for `name`'s records of type `qtype`
/// ([`QTYPE_A`], [`QTYPE_AAAA`]). `Err` on timeout or an answer that is not DNS.
pub fn dns_query<'a>(
    place: impl Into<Place<'a>>,
    server: impl ToSocketAddrs,
    name: &str,
    qtype: u16,
    timeout: Duration,
) -> Result<DnsReply, String> {
    let server = sockaddr(server);
    let id = (SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0) & 0xffff) as u16;
    let query = build_query(id, name, qtype);
    place.into().run(|| {
        let bind: SocketAddr =
            if server.is_ipv6() { (Ipv6Addr::UNSPECIFIED, 0).into() } else { (Ipv4Addr::UNSPECIFIED, 0).into() };
        let sock = UdpSocket::bind(bind).map_err(|e| format!("bind: {e}"))?;
        sock.set_read_timeout(Some(timeout)).map_err(|e| e.to_string())?;
        sock.connect(server).map_err(|e| format!("connect {server}: {e}"))?;
        sock.send(&query).map_err(|e| format!("send to {server}: {e}"))?;
        let mut buf = [0u8; 4096];
        let n = sock.recv(&mut buf).map_err(|e| format!("no answer from {server}: {e}"))?;
        parse_reply(id, &buf[..n])
    })
}

fn build_query(id: u16, name: &str, qtype: u16) -> Vec<u8> {
    let mut q = Vec::with_capacity(64);
    q.extend_from_slice(&id.to_be_bytes());
    q.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]); // RD, one question
    for label in name.trim_end_matches('.').split('.').filter(|l| !l.is_empty()) {
        q.push(label.len().min(63) as u8);
        q.extend_from_slice(&label.as_bytes()[..label.len().min(63)]);
    }
    q.push(0);
    q.extend_from_slice(&qtype.to_be_bytes());
    q.extend_from_slice(&1u16.to_be_bytes());
    q
}

fn parse_reply(id: u16, m: &[u8]) -> Result<DnsReply, String> {
    let bad = || format!("not a DNS answer: {m:02x?}");
    if m.len() < 12 || u16::from_be_bytes([m[0], m[1]]) != id || m[2] & 0x80 == 0 {
        return Err(bad());
    }
    let rcode = m[3] & 0x0f;
    let qd = u16::from_be_bytes([m[4], m[5]]);
    let an = u16::from_be_bytes([m[6], m[7]]);
    let mut pos = 12;
    for _ in 0..qd {
        pos = skip_name(m, pos).ok_or_else(bad)? + 4;
    }
    let mut addrs = Vec::new();
    for _ in 0..an {
        pos = skip_name(m, pos).ok_or_else(bad)?;
        let head = m.get(pos..pos + 10).ok_or_else(bad)?;
        let rtype = u16::from_be_bytes([head[0], head[1]]);
        let len = u16::from_be_bytes([head[8], head[9]]) as usize;
        let data = m.get(pos + 10..pos + 10 + len).ok_or_else(bad)?;
        match (rtype, len) {
            (QTYPE_A, 4) => addrs.push(IpAddr::from(<[u8; 4]>::try_from(data).map_err(|_| bad())?)),
            (QTYPE_AAAA, 16) => addrs.push(IpAddr::from(<[u8; 16]>::try_from(data).map_err(|_| bad())?)),
            _ => {}
        }
        pos += 10 + len;
    }
    Ok(DnsReply { rcode, addrs })
}

fn skip_name(m: &[u8], mut pos: usize) -> Option<usize> {
    loop {
        let len = *m.get(pos)? as usize;
        if len == 0 {
            return Some(pos + 1);
        }
        if len & 0xc0 == 0xc0 {
            return Some(pos + 2);
        }
        pos += 1 + len;
    }
}

/// How a [`UdpResponder`] answers.
#[derive(Debug, Clone)]
pub enum UdpBehaviour {
    /// Reads queries and never answers (a DNS server behind a dropping firewall, a dead one).
    Silent,
    /// Answers every datagram with bytes that are not DNS at all.
    Garbage,
    /// Answers with the query's id and the answer bit, then a body that breaks the format
    /// (counts that promise records which are not there).
    Malformed,
    /// Answers every query with this response code and no records (e.g. [`RCODE_SERVFAIL`]).
    Rcode(u8),
}

/// A UDP server written here, on a thread: for DNS servers that misbehave in ways dnsmasq
/// will not. Stops on drop.
pub struct UdpResponder {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    received: Arc<AtomicUsize>,
    thread: Option<JoinHandle<()>>,
}

impl UdpResponder {
    /// Binds `addr` at `place` (port 0 picks one; see [`UdpResponder::addr`]) and serves.
    pub fn start<'a>(place: impl Into<Place<'a>>, addr: impl ToSocketAddrs, behaviour: UdpBehaviour) -> UdpResponder {
        let place = place.into();
        let addr = sockaddr(addr);
        let sock = place
            .run(|| UdpSocket::bind(addr))
            .unwrap_or_else(|e| panic!("UDP responder cannot bind {addr} in {}: {e}", place.describe()));
        let addr = sock.local_addr().unwrap_or(addr);
        let _ = sock.set_read_timeout(Some(Duration::from_millis(50)));
        let stop = Arc::new(AtomicBool::new(false));
        let received = Arc::new(AtomicUsize::new(0));
        let thread = {
            let (stop, received) = (stop.clone(), received.clone());
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while !stop.load(Ordering::Relaxed) {
                    let Ok((n, peer)) = sock.recv_from(&mut buf) else {
                        continue;
                    };
                    received.fetch_add(1, Ordering::Relaxed);
                    if let Some(reply) = answer(&behaviour, &buf[..n]) {
                        let _ = sock.send_to(&reply, peer);
                    }
                }
            })
        };
        UdpResponder { addr, stop, received, thread: Some(thread) }
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// How many datagrams it received so far.
    pub fn received(&self) -> usize {
        self.received.load(Ordering::Relaxed)
    }
}

impl Drop for UdpResponder {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn answer(behaviour: &UdpBehaviour, query: &[u8]) -> Option<Vec<u8>> {
    match behaviour {
        UdpBehaviour::Silent => None,
        UdpBehaviour::Garbage => Some(b"\xde\xad\xbe\xefthis is not a DNS message\xff\x00\x17".to_vec()),
        UdpBehaviour::Malformed => {
            let id = query.get(..2)?;
            let mut r = id.to_vec();
            r.extend_from_slice(&[0x81, 0x80, 0, 1, 0, 5, 0, 0, 0, 0, 0xc0]);
            Some(r)
        }
        UdpBehaviour::Rcode(rcode) => {
            if query.len() < 12 {
                return None;
            }
            let mut r = query.to_vec();
            r[2] = 0x80 | (query[2] & 0x01); // QR, keep RD
            r[3] = 0x80 | (rcode & 0x0f); // RA
            r[6..12].fill(0); // no answer, authority, additional records
            Some(r)
        }
    }
}

/// A UDP "DNS server" that never answers.
pub struct SilentUdp;

impl SilentUdp {
    pub fn start<'a>(place: impl Into<Place<'a>>, addr: impl ToSocketAddrs) -> UdpResponder {
        UdpResponder::start(place, addr, UdpBehaviour::Silent)
    }
}

/// A UDP "DNS server" that answers bytes that are not DNS.
pub struct GarbageDns;

impl GarbageDns {
    pub fn start<'a>(place: impl Into<Place<'a>>, addr: impl ToSocketAddrs) -> UdpResponder {
        UdpResponder::start(place, addr, UdpBehaviour::Garbage)
    }
}

/// The records a [`Dnsmasq`] serves. Any name not listed gets NXDOMAIN (the server forwards
/// nothing to the outside world).
#[derive(Debug, Clone, Default)]
pub struct Zone {
    args: Vec<String>,
    servfail: Vec<String>,
}

impl Zone {
    pub fn new() -> Zone {
        Zone::default()
    }

    /// `name` has these addresses (A for IPv4, AAAA for IPv6; several of each allowed). A type
    /// without an address gets an empty answer (NODATA), not NXDOMAIN.
    pub fn host(mut self, name: &str, addrs: &[&str]) -> Zone {
        for a in addrs {
            let ip: IpAddr = a.parse().unwrap_or_else(|_| panic!("Zone::host({name}): `{a}` is not an IP address"));
            self.args.push(format!("--host-record={name},{ip}"));
        }
        self
    }

    /// `alias` is a CNAME for `target` (which must be a [`Zone::host`] of this zone).
    pub fn cname(mut self, alias: &str, target: &str) -> Zone {
        self.args.push(format!("--cname={alias},{target}"));
        self
    }

    /// `domain` and every name under it get NXDOMAIN (the default for unlisted names, made
    /// explicit).
    pub fn nxdomain(mut self, domain: &str) -> Zone {
        self.args.push(format!("--local=/{domain}/"));
        self
    }

    /// `domain` and every name under it get SERVFAIL: dnsmasq forwards them to an upstream
    /// server (a [`UdpResponder`] started with it) that answers SERVFAIL.
    pub fn servfail(mut self, domain: &str) -> Zone {
        self.servfail.push(domain.to_string());
        self
    }

    /// `domain` is forwarded to `upstream` (another server of the test).
    pub fn forward(mut self, domain: &str, upstream: SocketAddr) -> Zone {
        self.args.push(format!("--server=/{domain}/{}#{}", upstream.ip(), upstream.port()));
        self
    }

    /// Any other dnsmasq option.
    pub fn option(mut self, arg: &str) -> Zone {
        self.args.push(arg.to_string());
        self
    }
}

/// A real dnsmasq serving a [`Zone`] on one address (UDP and TCP). Queries are logged
/// ([`Dnsmasq::log`]). Stops on drop.
pub struct Dnsmasq {
    proc: Proc,
    upstream: Option<UdpResponder>,
    addr: SocketAddr,
    _dir: tempfile::TempDir,
}

impl Dnsmasq {
    /// Starts dnsmasq at `place` listening on `addr` (e.g. `"127.0.0.53:53"` in a namespace;
    /// the namespace's resolv.conf can only name port 53) and waits until it answers.
    pub fn start<'a>(place: impl Into<Place<'a>>, addr: impl ToSocketAddrs, zone: &Zone) -> Dnsmasq {
        let place = place.into();
        let addr = sockaddr(addr);
        let dir = temp_dir("pdt-dnsmasq-");
        // An empty file of our own rather than /dev/null, so /etc/dnsmasq.conf is not read.
        let empty_conf = dir.path().join("dnsmasq.conf");
        std::fs::write(&empty_conf, "").unwrap_or_else(|e| panic!("cannot write dnsmasq.conf: {e}"));
        let mut args = vec![
            "--keep-in-foreground".to_string(),
            format!("--conf-file={}", empty_conf.display()),
            "--no-resolv".to_string(),
            "--no-hosts".to_string(),
            "--no-negcache".to_string(),
            "--bind-interfaces".to_string(),
            format!("--listen-address={}", addr.ip()),
            format!("--port={}", addr.port()),
            "--pid-file=".to_string(),
            "--log-queries".to_string(),
            "--log-facility=-".to_string(),
            // Everything not listed: NXDOMAIN, never forwarded.
            "--local=/#/".to_string(),
        ];
        args.extend(zone.args.iter().cloned());
        let upstream = if zone.servfail.is_empty() {
            None
        } else {
            let up = UdpResponder::start(place, "127.0.0.1:0", UdpBehaviour::Rcode(RCODE_SERVFAIL));
            for d in &zone.servfail {
                args.push(format!("--server=/{d}/127.0.0.1#{}", up.addr().port()));
            }
            Some(up)
        };
        let mut cmd = place.command(which("dnsmasq"));
        cmd.args(&args);
        let what = format!("dnsmasq on {addr} in {}", place.describe());
        let mut proc = Proc::spawn(&what, cmd, dir.path().join("dnsmasq.log"));
        proc.wait_ready(|log| {
            log.contains("started, version")
                && dns_query(place, addr, "ready.pdt.invalid", QTYPE_A, Duration::from_millis(200)).is_ok()
        });
        Dnsmasq { proc, upstream, addr, _dir: dir }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// dnsmasq's output, with one `query[A] name from …` line per query.
    pub fn log(&self) -> String {
        self.proc.log()
    }

    /// How many queries for `name` dnsmasq received so far.
    pub fn queries_for(&self, name: &str) -> usize {
        let needle = format!("] {name} from ");
        self.log().lines().filter(|l| l.contains("query[") && l.contains(&needle)).count()
    }
}
