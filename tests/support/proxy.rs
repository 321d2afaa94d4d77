//! A real tinyproxy (an HTTP proxy speaking CONNECT) for the proxy paths of the checks.

use super::{sockaddr, tcp_open, temp_dir, which, Place, Proc};
use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

/// tinyproxy listening on one address. A CONNECT to a port outside its allowed list gets
/// `403 Access violation`; a CONNECT to a port nobody listens on gets `500 Unable to connect`.
/// Stops on drop.
pub struct Tinyproxy {
    proc: Proc,
    addr: SocketAddr,
    dir: tempfile::TempDir,
}

impl Tinyproxy {
    /// Starts tinyproxy at `place` on `addr` (e.g. `"127.0.0.1:3128"`), allowing CONNECT only to
    /// `connect_ports` (empty: any port, tinyproxy's default). It resolves names with the
    /// place's resolver (the namespace's resolv.conf and hosts). Waits until it accepts.
    pub fn start<'a>(place: impl Into<Place<'a>>, addr: impl ToSocketAddrs, connect_ports: &[u16]) -> Tinyproxy {
        Tinyproxy::start_with_auth(place, addr, connect_ports, None)
    }

    /// Like [`Tinyproxy::start`], and with `basic_auth` (user, password) tinyproxy demands those
    /// credentials (`BasicAuth`): a CONNECT without them gets `407 Proxy Authentication Required`.
    pub fn start_with_auth<'a>(
        place: impl Into<Place<'a>>,
        addr: impl ToSocketAddrs,
        connect_ports: &[u16],
        basic_auth: Option<(&str, &str)>,
    ) -> Tinyproxy {
        let place = place.into();
        let addr = sockaddr(addr);
        let dir = temp_dir("pdt-tinyproxy-");
        let mut conf = format!(
            "Port {}\nListen {}\nTimeout 30\nMaxClients 100\nLogLevel Info\nPidFile \"{}\"\n\
             DisableViaHeader Yes\n",
            addr.port(),
            addr.ip(),
            dir.path().join("tinyproxy.pid").display()
        );
        for p in connect_ports {
            conf.push_str(&format!("ConnectPort {p}\n"));
        }
        if let Some((user, password)) = basic_auth {
            conf.push_str(&format!("BasicAuth {user} {password}\n"));
        }
        let conf_path = dir.path().join("tinyproxy.conf");
        std::fs::write(&conf_path, conf).unwrap_or_else(|e| panic!("cannot write tinyproxy.conf: {e}"));
        let mut cmd = place.command(which("tinyproxy"));
        cmd.arg("-d").arg("-c").arg(&conf_path);
        let what = format!("tinyproxy on {addr} in {}", place.describe());
        let mut proc = Proc::spawn(&what, cmd, dir.path().join("tinyproxy.log"));
        proc.wait_ready(|log| {
            log.contains("Accepting connections") && tcp_open(place, addr, Duration::from_millis(200))
        });
        Tinyproxy { proc, addr, dir }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://IP:PORT`, for `--proxy` and `HTTPS_PROXY`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// tinyproxy's log: one `CONNECT … Request (file descriptor N): CONNECT host:port` line per
    /// tunnel asked for.
    pub fn log(&self) -> String {
        self.proc.log()
    }

    /// How many CONNECT requests for `host_port` (e.g. `"127.0.0.2:443"`) it received so far.
    pub fn connects_to(&self, host_port: &str) -> usize {
        let needle = format!(": CONNECT {host_port} ");
        self.log().lines().filter(|l| l.contains(&needle)).count()
    }
}
