//! A real MariaDB server for the database tests: a fresh datadir (a copy of one initialised
//! once) in a temp directory, started as root on a free loopback port with the general query
//! log on, shared by the tests of one process while any of them holds it, stopped and removed
//! when the last one lets it go.

use super::ports;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

pub struct MariaDb {
    pub port: u16,
    dir: tempfile::TempDir,
    child: Mutex<Child>,
}

fn free_port() -> u16 {
    ports::tcp()
}

impl MariaDb {
    /// The server shared by the tests of this process, started on first use.
    pub fn shared() -> Arc<MariaDb> {
        static SHARED: Mutex<Weak<MariaDb>> = Mutex::new(Weak::new());
        let mut slot = SHARED.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(db) = slot.upgrade() {
            return db;
        }
        let db = Arc::new(MariaDb::start());
        *slot = Arc::downgrade(&db);
        db
    }

    fn start() -> MariaDb {
        let dir = tempfile::Builder::new().prefix("pen-doctor-mariadb-").tempdir().expect("temp dir");
        let data = dir.path().join("data");
        let out = Command::new("cp").arg("-a").arg(template()).arg(&data).output().expect("cp runs");
        assert!(out.status.success(), "copying the datadir template failed: {}", String::from_utf8_lossy(&out.stderr));
        let port = free_port();
        let d = dir.path();
        let child = Command::new("mariadbd")
            .arg("--no-defaults")
            .arg("--user=root")
            .arg(format!("--datadir={}", data.display()))
            .arg(format!("--socket={}", d.join("s.sock").display()))
            .arg(format!("--port={port}"))
            .arg("--bind-address=127.0.0.1")
            .arg("--skip-name-resolve")
            .arg(format!("--pid-file={}", d.join("m.pid").display()))
            .arg(format!("--log-error={}", d.join("error.log").display()))
            .arg("--general-log=1")
            .arg(format!("--general-log-file={}", d.join("general.log").display()))
            .arg("--skip-log-bin")
            .arg("--innodb-buffer-pool-size=16M")
            .arg("--innodb-log-file-size=4M")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("mariadbd starts");
        let db = MariaDb { port, dir, child: Mutex::new(child) };
        let deadline = Instant::now() + Duration::from_secs(60);
        while db.try_sql("", "SELECT 1").is_err() {
            assert!(Instant::now() < deadline, "mariadbd did not start: {}", db.error_log());
            std::thread::sleep(Duration::from_millis(100));
        }
        db
    }

    /// The server's unix socket.
    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("s.sock")
    }

    pub fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("error.log")).unwrap_or_default()
    }

    /// The general query log: every statement the server received.
    pub fn general_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("general.log")).unwrap_or_default()
    }

    pub fn general_log_path(&self) -> &Path {
        self.dir.path()
    }

    fn try_sql(&self, database: &str, sql: &str) -> Result<String, String> {
        let mut cmd = Command::new("mariadb");
        cmd.arg("--no-defaults").arg(format!("--socket={}", self.socket().display())).args(["-uroot", "-N", "-B"]);
        if !database.is_empty() {
            cmd.arg(database);
        }
        let out = cmd.arg("-e").arg(sql).output().map_err(|e| e.to_string())?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    }

    /// Runs SQL as root (setting up the fixtures), panicking on error.
    pub fn sql(&self, database: &str, sql: &str) -> String {
        self.try_sql(database, sql).unwrap_or_else(|e| panic!("SQL failed: {e}\n{sql}"))
    }

    /// Creates a database and a user with SELECT only on it, both named after `name` (the user
    /// for TCP from 127.0.0.1 and for the unix socket, `localhost`).
    pub fn database_with_reader(&self, name: &str, password: &str) {
        self.sql(
            "",
            &format!(
                "CREATE DATABASE {name}; CREATE USER '{name}'@'127.0.0.1' IDENTIFIED BY '{password}'; \
                 GRANT SELECT ON {name}.* TO '{name}'@'127.0.0.1'; \
                 CREATE USER '{name}'@'localhost' IDENTIFIED BY '{password}'; \
                 GRANT SELECT ON {name}.* TO '{name}'@'localhost';"
            ),
        );
    }
}

/// A fresh database with SEI's tables on the shared server, and a user named after it that
/// may only SELECT: what an SEI installation's database looks like to pen-doctor.
pub struct SeiDb {
    pub server: Arc<MariaDb>,
    pub name: String,
}

impl SeiDb {
    /// A new database `PREFIX_TAG_PID_N` with [`SEI_SCHEMA`]; its reader's password is `password`.
    pub fn new(prefix: &str, tag: &str, password: &str) -> SeiDb {
        static SEQ: AtomicU32 = AtomicU32::new(0);
        let server = MariaDb::shared();
        let name = format!("{prefix}_{tag}_{}_{}", std::process::id(), SEQ.fetch_add(1, Ordering::SeqCst));
        server.database_with_reader(&name, password);
        server.sql(&name, SEI_SCHEMA);
        SeiDb { server, name }
    }

    /// Runs SQL as root in this database.
    pub fn sql(&self, sql: &str) -> String {
        self.server.sql(&self.name, sql)
    }

    /// `mysql://READER@127.0.0.1:PORT/DATABASE` (the password comes from elsewhere).
    pub fn url(&self) -> String {
        format!("mysql://{}@127.0.0.1:{}/{}", self.name, self.server.port, self.name)
    }
}

/// A freshly initialised datadir (`mariadb-install-db`, about 5 s), made once per build and
/// MariaDB version under the target directory and copied for each server: tests run in their own
/// processes under nextest, and copying takes milliseconds.
fn template() -> PathBuf {
    let version = Command::new("mariadbd").arg("--version").output().expect("mariadbd (Debian package mariadb-server)");
    let version: String = String::from_utf8_lossy(&version.stdout)
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '.' { c } else { '-' })
        .collect();
    let root = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let _ = std::fs::create_dir_all(root);
    let template = root.join(format!("mariadb-datadir-{}", version.trim_matches('-')));
    if template.join("mysql").is_dir() {
        return template;
    }
    // One process installs; the others wait on the lock, then find it done.
    let lock = std::fs::File::create(root.join("mariadb-datadir.lock")).expect("lock file");
    unsafe {
        libc::flock(std::os::fd::AsRawFd::as_raw_fd(&lock), libc::LOCK_EX);
    }
    if template.join("mysql").is_dir() {
        return template;
    }
    let staging = root.join(format!("mariadb-datadir-staging-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    let out = Command::new("mariadb-install-db")
        .args(["--no-defaults", "--user=root", "--auth-root-authentication-method=normal", "--skip-test-db"])
        .args(["--skip-name-resolve", "--innodb-log-file-size=4M", "--skip-log-bin"])
        .arg(format!("--datadir={}", staging.display()))
        .output()
        .expect("mariadb-install-db (Debian package mariadb-server) runs");
    assert!(out.status.success(), "mariadb-install-db failed: {}", String::from_utf8_lossy(&out.stderr));
    std::fs::rename(&staging, &template).expect("template in place");
    template
}

impl Drop for MariaDb {
    fn drop(&mut self) {
        let mut child = self.child.lock().unwrap_or_else(|e| e.into_inner());
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// The SEI tables pen-doctor reads, with the column names and MySQL types the SEI
/// infrastructure and the modules' install scripts create.
pub const SEI_SCHEMA: &str = "
CREATE TABLE infra_agendamento_tarefa (
  id_infra_agendamento_tarefa int(11) NOT NULL,
  descricao varchar(500) NOT NULL,
  comando varchar(255) NOT NULL,
  sta_periodicidade_execucao char(1) NOT NULL,
  periodicidade_complemento varchar(200) DEFAULT NULL,
  dth_ultima_execucao datetime DEFAULT NULL,
  dth_ultima_conclusao datetime DEFAULT NULL,
  sin_sucesso char(1) NOT NULL,
  parametro varchar(250) DEFAULT NULL,
  email_erro varchar(250) DEFAULT NULL,
  sin_ativo char(1) NOT NULL,
  PRIMARY KEY (id_infra_agendamento_tarefa)
) ENGINE=InnoDB DEFAULT CHARSET=latin1;
CREATE TABLE md_pi_pacote_envio (
  id_md_pi_pacote_envio bigint(20) NOT NULL,
  id_protocolo bigint(20) NOT NULL,
  dth_metadados datetime DEFAULT NULL,
  dth_situacao datetime DEFAULT NULL,
  sta_integracao char(2) NOT NULL,
  arquivo_metadados longtext DEFAULT NULL,
  arquivo_erro longtext DEFAULT NULL,
  num_tentativas_envio int(11) DEFAULT 0,
  dth_agendamento_executado datetime DEFAULT NULL,
  PRIMARY KEY (id_md_pi_pacote_envio)
) ENGINE=InnoDB DEFAULT CHARSET=latin1;
CREATE TABLE infra_parametro (
  nome varchar(100) NOT NULL,
  valor longtext DEFAULT NULL,
  PRIMARY KEY (nome)
) ENGINE=InnoDB DEFAULT CHARSET=latin1;
";
