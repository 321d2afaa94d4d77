//! [`Scenario`]: the lab most service tests need, said once. The suite's [`Pki`] (its fixed
//! hierarchy), a server leaf naming the scenario's hosts, a trust store of a healthy host (ISRG
//! Root X1 and the test root), optionally a client certificate of the client CA in an encrypted
//! PEM file, and nginx serving a [`Site`] for those hosts, with or without client-certificate
//! verification, on a free loopback port or on `127.0.0.2:443` inside a [`Netns`] of its own.
//! [`Running::args`] gives the `check` flags that point the targets at it. For the tests of
//! the way there rather than the service, a plain [`TcpServer`] can stand at the server's
//! address instead of nginx ([`Scenario::tcp_peer`]), with more listeners beside it and a
//! tinyproxy in front ([`Scenario::proxy`]).
//!
//! ```ignore
//! let lab = Scenario::new()
//!     .host("tramita.test")
//!     .also("pendencias.test")
//!     .mtls(Mtls::On)
//!     .site(Site::tramita().ok_elsewhere())
//!     .target("tramita", "tramita.test", TRAMITA_PATH)
//!     .target("pendencias", "pendencias.test", "/")
//!     .in_netns()
//!     .start();
//! let run = lab.run(&lab.args().only("tls,http").json());
//! ```

use super::{
    free_port, pen_doctor, CheckArgs, Issued, Netns, Nginx, Pki, Place, Run, RunExt, Spec, TcpBehaviour, TcpServer,
    Tinyproxy,
};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

/// Tramita's REST base path (module 4.x).
pub const TRAMITA_PATH: &str = "/interoperabilidade/rest/v3/";
/// Tramita's SOAP base path (module 3.x).
pub const TRAMITA_SOAP_PATH: &str = "/interoperabilidade/soap/v3/";
/// A WSDL document as small as the checks accept.
pub const WSDL: &str = r#"<?xml version="1.0"?><wsdl:definitions xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" name="Pen"></wsdl:definitions>"#;
/// The variable [`Running::args`] names in `--cert-password-env`.
pub const PASSWORD_ENV: &str = "CP";
/// The client certificate's password unless [`Scenario::password`] says another.
pub const DEFAULT_PASSWORD: &str = "Senha-Do-Cenario-1";
/// The client certificate's subject unless [`Scenario::client_cn`] says another.
pub const DEFAULT_CLIENT_CN: &str = "ORGAO TESTE:00394460000141";

/// Whether nginx asks for a client certificate (`ssl_verify_client`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mtls {
    /// No client certificate asked.
    Off,
    /// Required: a handshake without one is refused.
    On,
    /// Asked, not required.
    Optional,
}

/// What nginx answers: `location` blocks and the answer for every other path. Each named body
/// is the shape of a real service the checks ask.
#[derive(Debug, Clone)]
pub struct Site {
    locations: Vec<String>,
    elsewhere: String,
}

impl Site {
    /// Nothing but the answer for every path (`404`).
    pub fn empty() -> Site {
        Site { locations: Vec::new(), elsewhere: "return 404;".to_string() }
    }

    /// Tramita's REST API, healthy: the healthcheck says `{"status":"ok"}` and
    /// `tramites/pendentes` answers an empty list; other paths 404.
    pub fn tramita() -> Site {
        Site::empty().healthcheck().location(&format!(
            "location = {TRAMITA_PATH}tramites/pendentes {{ default_type application/json; return 200 '[]'; }}"
        ))
    }

    /// Tramita as the module's own requests need it: the SOAP WSDL (only for `?wsdl`), the REST
    /// healthcheck and `tramites/pendentes` answering only `?todas=0` (400 otherwise); other
    /// paths 404.
    pub fn tramita_as_the_module_asks() -> Site {
        Site::empty().soap_wsdl().healthcheck().location(&format!(
            "location = {TRAMITA_PATH}tramites/pendentes {{ default_type application/json; \
                 if ($args = todas=0) {{ return 200 '[]'; }} return 400; }}"
        ))
    }

    /// Only Tramita's REST healthcheck; other paths 404.
    pub fn healthcheck_only() -> Site {
        Site::empty().healthcheck()
    }

    /// `200 ok` for every path (pendências' base URL, a portal).
    pub fn ok() -> Site {
        Site::empty().ok_elsewhere()
    }

    /// The WSDL document for every path.
    pub fn wsdl() -> Site {
        Site::empty().answer_elsewhere(&format!("default_type text/xml; return 200 '{WSDL}';"))
    }

    /// Every request handed to `upstream`, which never answers: pendências' long-poll held.
    pub fn long_poll(upstream: std::net::SocketAddr) -> Site {
        Site::empty().answer_elsewhere(&format!("proxy_pass http://{upstream}; proxy_read_timeout 60s;"))
    }

    /// Adds Tramita's SOAP WSDL (answered for `?wsdl` only, 404 otherwise).
    pub fn soap_wsdl(self) -> Site {
        self.location(&format!(
            "location = {TRAMITA_SOAP_PATH} {{ default_type text/xml; if ($args = wsdl) {{ return 200 '{WSDL}'; }} return 404; }}"
        ))
    }

    /// Adds the REST healthcheck (`{"status":"ok"}`).
    pub fn healthcheck(self) -> Site {
        self.location(&format!(
            "location = {TRAMITA_PATH}healthcheck {{ default_type application/json; return 200 '{{\"status\":\"ok\"}}'; }}"
        ))
    }

    /// Adds a `location` block (nginx syntax).
    pub fn location(mut self, block: &str) -> Site {
        self.locations.push(block.to_string());
        self
    }

    /// Answers `200 ok` for every other path.
    pub fn ok_elsewhere(self) -> Site {
        self.answer_elsewhere("return 200 'ok';")
    }

    /// The directives of `location /` (every other path).
    pub fn answer_elsewhere(mut self, directives: &str) -> Site {
        self.elsewhere = directives.to_string();
        self
    }

    /// The `location` blocks as nginx reads them.
    pub fn nginx(&self) -> String {
        let mut text = self.locations.join("\n");
        text.push_str(&format!("\nlocation / {{ {} }}", self.elsewhere));
        text
    }
}

/// Where nginx listens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Net {
    /// `127.0.0.1` on a free port, on the host.
    Loopback,
    /// `127.0.0.2:443` in a namespace of the scenario's own.
    Netns,
}

/// A target the scenario serves: its id, host and path.
#[derive(Debug, Clone)]
struct Target {
    id: String,
    host: String,
    path: String,
}

/// The builder: say what the lab is, then [`Scenario::start`] it.
#[derive(Clone)]
pub struct Scenario {
    hosts: Vec<String>,
    mtls: Mtls,
    verify_depth: u8,
    site: Site,
    net: Net,
    in_hosts_file: bool,
    client: bool,
    client_cn: String,
    password: String,
    server_extra: String,
    http_extra: String,
    also_serve: String,
    targets: Vec<Target>,
    pki: Option<Arc<Pki>>,
    identity: Option<(PathBuf, PathBuf)>,
    trust: Option<PathBuf>,
    tcp_peer: Option<TcpBehaviour>,
    listeners: Vec<(u16, TcpBehaviour)>,
    proxy: Option<Vec<u16>>,
}

impl Default for Scenario {
    fn default() -> Self {
        Scenario::new()
    }
}

impl Scenario {
    /// `api.test`, no client certificate asked, [`Site::tramita`], on loopback.
    pub fn new() -> Scenario {
        Scenario {
            hosts: Vec::new(),
            mtls: Mtls::Off,
            verify_depth: 3,
            site: Site::tramita(),
            net: Net::Loopback,
            in_hosts_file: false,
            client: false,
            client_cn: DEFAULT_CLIENT_CN.to_string(),
            password: DEFAULT_PASSWORD.to_string(),
            server_extra: String::new(),
            http_extra: String::new(),
            also_serve: String::new(),
            targets: Vec::new(),
            pki: None,
            identity: None,
            trust: None,
            tcp_peer: None,
            listeners: Vec::new(),
            proxy: None,
        }
    }

    /// The server's name (its `server_name` and its certificate's first name).
    pub fn host(mut self, host: &str) -> Scenario {
        self.hosts.insert(0, host.to_string());
        self
    }

    /// Another name served by the same server and certificate.
    pub fn also(mut self, host: &str) -> Scenario {
        self.hosts.push(host.to_string());
        self
    }

    /// Whether nginx asks for a client certificate; [`Mtls::On`] and [`Mtls::Optional`] also
    /// make the client certificate ([`Scenario::client`]).
    pub fn mtls(mut self, mtls: Mtls) -> Scenario {
        self.mtls = mtls;
        self.client = mtls != Mtls::Off;
        self
    }

    /// How deep nginx follows a client certificate's chain (`ssl_verify_depth`, 3 unless said).
    pub fn verify_depth(mut self, depth: u8) -> Scenario {
        self.verify_depth = depth;
        self
    }

    /// Whether to make a client certificate (an RSA leaf of the client CA in a PEM file with
    /// its key encrypted, [`Running::client_pem`]) and give it in [`Running::args`].
    pub fn client(mut self, yes: bool) -> Scenario {
        self.client = yes;
        self
    }

    /// The client certificate's common name.
    pub fn client_cn(mut self, cn: &str) -> Scenario {
        self.client_cn = cn.to_string();
        self
    }

    /// The client certificate's password.
    pub fn password(mut self, password: &str) -> Scenario {
        self.password = password.to_string();
        self
    }

    pub fn site(mut self, site: Site) -> Scenario {
        self.site = site;
        self
    }

    /// More directives in the `server` block (before the locations).
    pub fn server_extra(mut self, directives: &str) -> Scenario {
        self.server_extra.push_str(directives);
        self.server_extra.push('\n');
        self
    }

    /// More text in nginx's `http` block (a `log_format`, another `server`).
    pub fn http_extra(mut self, text: &str) -> Scenario {
        self.http_extra.push_str(text);
        self.http_extra.push('\n');
        self
    }

    /// More `server` blocks after the scenario's own (which stays nginx's default server). On
    /// loopback, `{PORT}` in them is the scenario's port ([`Nginx::tls_server`] listens there).
    pub fn also_serve(mut self, servers: &str) -> Scenario {
        self.also_serve.push_str(servers);
        self.also_serve.push('\n');
        self
    }

    /// A target [`Running::args`] points at `https://HOST[:PORT]PATH` of this server.
    pub fn target(mut self, id: &str, host: &str, path: &str) -> Scenario {
        self.targets.push(Target { id: id.to_string(), host: host.to_string(), path: path.to_string() });
        self
    }

    /// Uses `pki` (shared with another scenario) instead of a new one.
    pub fn pki(mut self, pki: Arc<Pki>) -> Scenario {
        self.pki = Some(pki);
        self
    }

    /// Serves `chain` with `key` (a certificate of the test's own making) instead of a leaf of
    /// the fixed intermediate naming the hosts.
    pub fn identity(mut self, chain: &Path, key: &Path) -> Scenario {
        self.identity = Some((chain.to_path_buf(), key.to_path_buf()));
        self
    }

    /// `store` as the trust store ([`Running::store`]) instead of the healthy one.
    pub fn trust(mut self, store: &Path) -> Scenario {
        self.trust = Some(store.to_path_buf());
        self
    }

    /// A plain [`TcpServer`] behaving so at the server's address instead of nginx
    /// ([`Running::peer`]).
    pub fn tcp_peer(mut self, behaviour: TcpBehaviour) -> Scenario {
        self.tcp_peer = Some(behaviour);
        self
    }

    /// Another [`TcpServer`] at the server's address on `port` ([`Running::listener`]); in a
    /// namespace only (on the host the port could be taken).
    pub fn also_listen(mut self, port: u16, behaviour: TcpBehaviour) -> Scenario {
        self.listeners.push((port, behaviour));
        self
    }

    /// A tinyproxy allowing CONNECT to `connect_ports` ([`Running::proxy`]): on
    /// `127.0.0.1:3128` in a namespace, on a free port on the host.
    pub fn proxy(mut self, connect_ports: &[u16]) -> Scenario {
        self.proxy = Some(connect_ports.to_vec());
        self
    }

    /// nginx on a free port of `127.0.0.1` on the host (the default).
    pub fn on_loopback(mut self) -> Scenario {
        self.net = Net::Loopback;
        self
    }

    /// nginx on `127.0.0.2:443` in a network namespace of its own. The names are in no hosts
    /// file ([`Running::args`] gives `--resolve`) unless [`Scenario::named_in_hosts`].
    pub fn in_netns(mut self) -> Scenario {
        self.net = Net::Netns;
        self
    }

    /// Writes the hosts in the namespace's hosts file (at `127.0.0.2`); [`Running::args`] then
    /// gives no `--resolve`.
    pub fn named_in_hosts(mut self) -> Scenario {
        self.in_hosts_file = true;
        self
    }

    /// Makes the files and starts nginx (and the namespace).
    pub fn start(self) -> Running {
        let mut hosts = self.hosts.clone();
        if hosts.is_empty() {
            hosts.push("api.test".to_string());
        }
        let pki = self.pki.clone().unwrap_or_else(|| Arc::new(Pki::new()));
        let names: Vec<&str> = hosts.iter().map(String::as_str).collect();
        let (key, chain) = match &self.identity {
            Some((chain, key)) => (key.clone(), chain.clone()),
            None => pki.serve_names(&names),
        };
        let store = self.trust.clone().unwrap_or_else(|| pki.healthy_store());
        let client = self.client.then(|| {
            let issued = pki.client(&Spec::client(&self.client_cn, "ICP-Brasil"));
            let pem = pki.write(
                &format!("client-{}.pem", hosts[0]),
                issued.pem() + &issued.key_pem_pkcs8_encrypted(&self.password),
            );
            (issued, pem)
        });
        let verify = verify_client(&pki, self.mtls, self.verify_depth);
        let rest = format!("{verify}{}{}", self.server_extra, self.site.nginx());
        let ns = (self.net == Net::Netns).then(Netns::new);
        let place = ns.as_ref().map(Place::Ns).unwrap_or(Place::Host);
        if let Some(ns) = &ns {
            let mut file = "127.0.0.1 localhost\n".to_string();
            if self.in_hosts_file {
                for h in &hosts {
                    file.push_str(&format!("127.0.0.2 {h}\n"));
                }
            }
            ns.set_hosts(&file);
        }
        let addr = if ns.is_some() { "127.0.0.2" } else { "127.0.0.1" };
        let mut tcp = Vec::new();
        if let Some(behaviour) = &self.tcp_peer {
            let port = if ns.is_some() { 443 } else { 0 };
            tcp.push((port, TcpServer::start(place, (addr, port), behaviour.clone())));
        }
        for (port, behaviour) in &self.listeners {
            assert!(ns.is_some(), "Scenario::also_listen needs Scenario::in_netns");
            tcp.push((*port, TcpServer::start(place, (addr, *port), behaviour.clone())));
        }
        let proxy = self.proxy.as_ref().map(|ports| {
            let at = if ns.is_some() { 3128 } else { free_port(place) };
            Tinyproxy::start(place, ("127.0.0.1", at), ports)
        });
        let nginx = match &ns {
            _ if self.tcp_peer.is_some() => None,
            None => Some(Nginx::on_free_port(&format!(
                "{}{}{}",
                self.http_extra,
                Nginx::tls_server(&names.join(" "), &chain, &key, &rest),
                self.also_serve
            ))),
            Some(ns) => {
                let server = Nginx::tls_server_at("127.0.0.2:443", &names.join(" "), &chain, &key, &rest);
                Some(Nginx::start(ns, &format!("{}{server}{}", self.http_extra, self.also_serve)))
            }
        };
        Running { nginx, tcp, proxy, ns, pki, store, client, scenario: self, hosts }
    }
}

/// The directives of a `server` block that asks for a client certificate of `pki`'s client CA
/// as `mtls` says, following its chain `depth` deep (nothing for [`Mtls::Off`]).
pub fn verify_client(pki: &Pki, mtls: Mtls, depth: u8) -> String {
    let verify = match mtls {
        Mtls::Off => return String::new(),
        Mtls::On => "on",
        Mtls::Optional => "optional",
    };
    format!(
        "ssl_verify_client {verify}; ssl_client_certificate {}; ssl_verify_depth {depth};\n",
        pki.client_ca_file().display()
    )
}

/// A started [`Scenario`]: owns its nginx, namespace and files (stopped and removed on drop).
pub struct Running {
    // Dropped in this order: the servers before the namespace they run in.
    nginx: Option<Nginx>,
    tcp: Vec<(u16, TcpServer)>,
    proxy: Option<Tinyproxy>,
    ns: Option<Netns>,
    pki: Arc<Pki>,
    store: PathBuf,
    client: Option<(Issued, PathBuf)>,
    scenario: Scenario,
    hosts: Vec<String>,
}

impl Running {
    pub fn pki(&self) -> &Pki {
        &self.pki
    }

    /// The [`Pki`], to share with another scenario ([`Scenario::pki`]).
    pub fn shared_pki(&self) -> Arc<Pki> {
        Arc::clone(&self.pki)
    }

    /// nginx; panics when a [`Scenario::tcp_peer`] stands in its place.
    pub fn nginx(&self) -> &Nginx {
        self.nginx.as_ref().expect("the scenario runs nginx (no Scenario::tcp_peer)")
    }

    /// The [`Scenario::tcp_peer`] standing at the server's address.
    pub fn peer(&self) -> &TcpServer {
        assert!(self.scenario.tcp_peer.is_some(), "the scenario has a Scenario::tcp_peer");
        &self.tcp[0].1
    }

    /// The [`Scenario::also_listen`] listener on `port`.
    pub fn listener(&self, port: u16) -> &TcpServer {
        let skip = usize::from(self.scenario.tcp_peer.is_some());
        let found = self.tcp.iter().skip(skip).find(|(p, _)| *p == port);
        &found.unwrap_or_else(|| panic!("no Scenario::also_listen on port {port}")).1
    }

    /// The tinyproxy of [`Scenario::proxy`].
    pub fn proxy(&self) -> &Tinyproxy {
        self.proxy.as_ref().expect("the scenario has a proxy (Scenario::proxy)")
    }

    /// The trust store of a healthy host: ISRG Root X1 and the test root (or the one given to
    /// [`Scenario::trust`]).
    pub fn store(&self) -> &Path {
        &self.store
    }

    /// The common name of the root the server's chain ends in.
    pub fn root_name(&self) -> String {
        self.pki.root.cn()
    }

    /// The common name of the client CA nginx accepts client certificates of.
    pub fn client_ca_name(&self) -> String {
        self.pki.client_ca.cn()
    }

    /// The client certificate in memory; panics when the scenario made none.
    pub fn client(&self) -> &Issued {
        &self.client.as_ref().expect("the scenario has a client certificate (Scenario::client)").0
    }

    /// The client certificate and its encrypted key in one PEM file.
    pub fn client_pem(&self) -> &Path {
        &self.client.as_ref().expect("the scenario has a client certificate (Scenario::client)").1
    }

    /// The client certificate's password.
    pub fn password(&self) -> &str {
        &self.scenario.password
    }

    /// The port nginx listens on (443 in a namespace).
    pub fn port(&self) -> u16 {
        match (&self.ns, &self.nginx) {
            (Some(_), _) => 443,
            (None, Some(nginx)) => nginx.port(),
            (None, None) => self.tcp[0].1.port(),
        }
    }

    /// The address the hosts resolve to.
    pub fn addr(&self) -> &'static str {
        match self.ns {
            Some(_) => "127.0.0.2",
            None => "127.0.0.1",
        }
    }

    /// The server's first name.
    pub fn host(&self) -> &str {
        &self.hosts[0]
    }

    /// `https://HOST[:PORT]PATH` on the first host.
    pub fn url(&self, path: &str) -> String {
        self.url_of(self.host(), path)
    }

    /// `https://HOST[:PORT]PATH`; the port is left out when it is 443.
    pub fn url_of(&self, host: &str, path: &str) -> String {
        match self.port() {
            443 => format!("https://{host}{path}"),
            port => format!("https://{host}:{port}{path}"),
        }
    }

    /// Where nginx (and so the command) runs: the namespace or the host.
    pub fn place(&self) -> Place<'_> {
        match &self.ns {
            Some(ns) => Place::Ns(ns),
            None => Place::Host,
        }
    }

    /// The namespace; panics on loopback.
    pub fn ns(&self) -> &Netns {
        self.ns.as_ref().expect("the scenario runs in a namespace (Scenario::in_netns)")
    }

    /// `--endpoint ID=URL` for `host` and `path` (and `--resolve` when the name is in no hosts
    /// file), appended to `args`.
    pub fn endpoint(&self, args: CheckArgs, id: &str, host: &str, path: &str) -> CheckArgs {
        let args = args.endpoint(id, &self.url_of(host, path));
        self.resolve(args, host)
    }

    /// `--resolve HOST:PORT:ADDR` for `host` unless the namespace's hosts file names it.
    pub fn resolve(&self, args: CheckArgs, host: &str) -> CheckArgs {
        if self.ns.is_some() && self.scenario.in_hosts_file {
            args
        } else {
            args.resolve(host, self.port(), self.addr())
        }
    }

    /// `check --target IDS` and the targets' `--endpoint`/`--resolve` flags, nothing else.
    pub fn target_args(&self) -> CheckArgs {
        let mut args = CheckArgs::new();
        if !self.scenario.targets.is_empty() {
            let ids: Vec<&str> = self.scenario.targets.iter().map(|t| t.id.as_str()).collect();
            args = args.target(&ids.join(","));
        }
        for t in &self.scenario.targets {
            args = args.endpoint(&t.id, &self.url_of(&t.host, &t.path));
        }
        let mut resolved: Vec<&str> = Vec::new();
        for t in &self.scenario.targets {
            if !resolved.contains(&t.host.as_str()) {
                resolved.push(&t.host);
                args = self.resolve(args, &t.host);
            }
        }
        args
    }

    /// [`Running::target_args`], `--ca-bundle` with [`Running::store`] and, when the scenario
    /// has a client certificate, `--cert` with it and `--cert-password-env CP`.
    pub fn args(&self) -> CheckArgs {
        let args = self.target_args().ca_bundle(&self.store);
        match &self.client {
            Some((_, pem)) => args.cert(pem, PASSWORD_ENV),
            None => args,
        }
    }

    /// `pen-doctor` at [`Running::place`] with `CP` set to the client certificate's password.
    pub fn command(&self) -> Command {
        let mut cmd = pen_doctor(self.place());
        cmd.env(PASSWORD_ENV, &self.scenario.password);
        cmd
    }

    /// Runs [`Running::command`] with `args`; panics when the binary panicked.
    #[track_caller]
    pub fn run(&self, args: &CheckArgs) -> Run {
        let run = self.command().args(args.argv()).run();
        assert!(!run.stderr.contains("panicked"), "{run}");
        run
    }
}
