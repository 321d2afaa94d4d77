//! A real nginx in the foreground with a configuration the test writes (TLS servers, client
//! certificate verification, fixed answers), its files in a temporary directory.

use super::{free_port, temp_dir, which, Host, Pki, Place, Proc};
use std::path::{Path, PathBuf};

/// nginx (one process, as root) running the `http { … }` body the test gave. Stops on drop.
pub struct Nginx {
    proc: Proc,
    dir: tempfile::TempDir,
    port: Option<u16>,
}

impl Nginx {
    /// Starts nginx at `place`. `http_body` is what goes inside `http { }`: one or more `server`
    /// blocks. Logs, pid and temp paths are set up already; `default_type` is `text/plain`.
    ///
    /// ```ignore
    /// Nginx::start(&ns, &format!(r#"
    ///   server {{
    ///     listen 127.0.0.2:443 ssl;
    ///     ssl_certificate {chain}; ssl_certificate_key {key};
    ///     ssl_client_certificate {ca}; ssl_verify_client on;
    ///     location / {{ return 200 "ok\n"; }}
    ///   }}"#, chain = leaf.chain.display(), key = leaf.key.display(), ca = root.cert.display()));
    /// ```
    /// Returns once nginx has bound its ports (it writes its pid file after that).
    pub fn start<'a>(place: impl Into<Place<'a>>, http_body: &str) -> Nginx {
        let place = place.into();
        let dir = temp_dir("pdt-nginx-");
        let d = dir.path();
        let conf = format!(
            "pid {pid};\n\
             error_log {err} info;\n\
             events {{ worker_connections 256; }}\n\
             http {{\n\
             access_log {access};\n\
             client_body_temp_path {d}/client_body;\n\
             proxy_temp_path {d}/proxy;\n\
             fastcgi_temp_path {d}/fastcgi;\n\
             uwsgi_temp_path {d}/uwsgi;\n\
             scgi_temp_path {d}/scgi;\n\
             default_type text/plain;\n\
             {http_body}\n\
             }}\n",
            pid = d.join("nginx.pid").display(),
            err = d.join("error.log").display(),
            access = d.join("access.log").display(),
            d = d.display(),
        );
        let conf_path = d.join("nginx.conf");
        std::fs::write(&conf_path, &conf).unwrap_or_else(|e| panic!("cannot write nginx.conf: {e}"));
        let mut cmd = place.command(which("nginx"));
        cmd.arg("-e")
            .arg(d.join("error.log"))
            .arg("-p")
            .arg(d)
            .arg("-c")
            .arg(&conf_path)
            .args(["-g", "daemon off; master_process off;"]);
        let what = format!("nginx in {}", place.describe());
        let mut proc = Proc::spawn(&what, cmd, d.join("nginx.out"));
        proc.also_log(d.join("error.log"));
        proc.also_log(conf_path.clone());
        let pid_file = d.join("nginx.pid");
        proc.wait_ready(|_| pid_file.exists());
        Nginx { proc, dir, port: None }
    }

    /// Starts nginx on the host with `servers`, each `{PORT}` in it replaced by one free
    /// loopback port: [`Nginx::port`].
    pub fn on_free_port(servers: &str) -> Nginx {
        let port = free_port(Host);
        let mut nginx = Nginx::start(Host, &servers.replace("{PORT}", &port.to_string()));
        nginx.port = Some(port);
        nginx
    }

    /// A `server { }` block for [`Nginx::on_free_port`]: TLS on `127.0.0.1:{PORT}` for
    /// `server_name`, serving `chain` with `key`, then `rest` (client verification, `location`s).
    pub fn tls_server(server_name: &str, chain: impl AsRef<Path>, key: impl AsRef<Path>, rest: &str) -> String {
        Nginx::tls_server_at("127.0.0.1:{PORT}", server_name, chain, key, rest)
    }

    /// [`Nginx::tls_server`] listening on `listen` (`127.0.0.2:443` in a namespace).
    pub fn tls_server_at(
        listen: &str,
        server_name: &str,
        chain: impl AsRef<Path>,
        key: impl AsRef<Path>,
        rest: &str,
    ) -> String {
        format!(
            "server {{ listen {listen} ssl; server_name {server_name}; ssl_certificate {}; \
             ssl_certificate_key {};\n{rest}\n}}\n",
            chain.as_ref().display(),
            key.as_ref().display()
        )
    }

    /// The usual TLS lab: nginx on a free loopback port serving `host` with a leaf of `pki`'s
    /// fixed intermediate ([`Pki::serve`]), verifying client certificates of `pki`'s client CA
    /// as `ssl_verify_client VERIFY` says (`on`, `optional`), then `locations`.
    pub fn serving(pki: &Pki, host: &str, verify: &str, locations: &str) -> Nginx {
        let (key, chain) = pki.serve(host);
        let rest = format!(
            "ssl_verify_client {verify}; ssl_client_certificate {ca}; ssl_verify_depth 3;\n{locations}",
            ca = pki.client_ca_file().display()
        );
        Nginx::on_free_port(&Nginx::tls_server(host, &chain, &key, &rest))
    }

    /// The port `{PORT}` stood for ([`Nginx::on_free_port`]).
    pub fn port(&self) -> u16 {
        self.port.expect("nginx was started with Nginx::on_free_port")
    }

    /// nginx's directory (its config, logs, pid).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("error.log")).unwrap_or_default()
    }

    pub fn access_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("access.log")).unwrap_or_default()
    }

    pub fn conf_path(&self) -> PathBuf {
        self.dir.path().join("nginx.conf")
    }
}
