//! Read-only access to the SEI database: where it is (`--db URL` or `BancoSEI`), a MySQL/MariaDB
//! session set read-only that runs SELECT statements only, and connection failures classified
//! (unreachable, access denied, query failed) with the password scrubbed from every message.

use crate::model::code;
use crate::model::Finding;
use crate::net::auth::percent_decode;
use crate::secret::Secret;
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, OptsBuilder, Row, Value};
use std::path::{Path, PathBuf};
use std::time::Duration;
use url::Url;

/// Where MySQL and MariaDB packages put the server's socket (Debian, RHEL, source builds).
pub const DEFAULT_SOCKETS: &[&str] =
    &["/run/mysqld/mysqld.sock", "/var/run/mysqld/mysqld.sock", "/var/lib/mysql/mysql.sock", "/tmp/mysql.sock"];

/// The socket a `localhost` connection goes through, as PHP's mysqli connects: the first of
/// the usual paths that exists.
fn local_socket(host: &str) -> Option<PathBuf> {
    if !host.eq_ignore_ascii_case("localhost") {
        return None;
    }
    DEFAULT_SOCKETS.iter().map(Path::new).find(|p| p.exists()).map(Path::to_path_buf)
}

/// The database engines SEI supports; only MySQL/MariaDB is spoken here.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Engine {
    MySql,
    /// Any other engine (`SqlServer`, `Oracle`, `PostgreSql`…), by the name the configuration gave.
    Other(String),
}

/// Where the SEI database is and how to log in. The password never leaves [`Secret`].
#[derive(Clone, Debug)]
pub struct DbTarget {
    pub engine: Engine,
    pub host: String,
    pub port: u16,
    pub database: String,
    pub user: String,
    pub password: Option<Secret>,
    /// A unix socket to connect through instead of TCP: `?socket=PATH` in `--db`, or the
    /// server's usual socket when `BancoSEI` names `localhost` (as PHP's mysqli does).
    pub socket: Option<PathBuf>,
    /// `--db` or `BancoSEI`.
    pub source: &'static str,
}

impl DbTarget {
    /// `host:port` (or `unix:PATH`), safe to show.
    pub fn addr(&self) -> String {
        if let Some(socket) = &self.socket {
            format!("unix:{}", socket.display())
        } else if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// Removes the password from a text that is about to be shown (a server or driver message).
    pub fn scrub(&self, text: &str) -> String {
        match &self.password {
            Some(p) if !p.expose().is_empty() => text.replace(p.expose(), "***"),
            _ => text.to_string(),
        }
    }
}

/// The engine named by `BancoSEI > Tipo` or a `--db` URL scheme.
pub fn engine_of(kind: &str) -> Engine {
    match kind.trim().to_ascii_lowercase().as_str() {
        "mysql" | "mariadb" | "" => Engine::MySql,
        _ => Engine::Other(kind.trim().to_string()),
    }
}

/// `BancoSEI` of `ConfiguracaoSEI.php`.
#[derive(Clone, Debug, Default)]
pub struct DbConfig {
    /// `Tipo`: MySql, SqlServer, Oracle…
    pub kind: String,
    pub host: String,
    pub port: Option<u16>,
    pub database: String,
    pub user: String,
    pub password: Secret,
}

/// The database given by `--db` (`db_flag`), else by `BancoSEI` of the installation; `password`
/// (`PEN_DOCTOR_DB_PASSWORD`) wins over the one written there.
pub fn target_from(
    db_flag: Option<&str>,
    password: Option<Secret>,
    sei_db: Option<&DbConfig>,
    sei_dir: &Path,
) -> Result<DbTarget, Finding> {
    if let Some(raw) = db_flag {
        return parse_url(raw, password);
    }
    let Some(cfg) = sei_db else {
        let path = sei_dir.join("config/ConfiguracaoSEI.php");
        return Err(Finding::new(code::DB_NOT_CONFIGURED).with("path", path.display()));
    };
    let engine = engine_of(&cfg.kind);
    if let Engine::Other(name) = &engine {
        return Err(Finding::new(code::DB_UNSUPPORTED).with("kind", name).with("source", "BancoSEI"));
    }
    // `Servidor` may carry the port (`host:3306`) when `Porta` is absent.
    let (host, port) = match (cfg.port, cfg.host.rsplit_once(':')) {
        (Some(p), _) => (cfg.host.clone(), p),
        (None, Some((h, p))) if !h.contains(':') && p.parse::<u16>().is_ok() => {
            (h.to_string(), p.parse().unwrap_or(3306))
        }
        (None, _) => (cfg.host.clone(), 3306),
    };
    let socket = local_socket(&host);
    Ok(DbTarget {
        engine,
        host,
        port,
        database: cfg.database.clone(),
        user: cfg.user.clone(),
        password: password.or_else(|| Some(cfg.password.clone())),
        socket,
        source: "BancoSEI",
    })
}

/// Parses `mysql://user@host:port/db`. A password written in the URL is used but never shown.
pub fn parse_url(raw: &str, password: Option<Secret>) -> Result<DbTarget, Finding> {
    let bad = |why: &str| Finding::new(code::DB_URL_INVALID).with("reason", why);
    let url = Url::parse(raw).map_err(|e| bad(&e.to_string()))?;
    let engine = engine_of(url.scheme());
    if let Engine::Other(name) = &engine {
        return Err(Finding::new(code::DB_UNSUPPORTED).with("kind", name).with("source", "--db"));
    }
    let host = url.host_str().filter(|h| !h.is_empty()).ok_or_else(|| bad("no host"))?;
    let host = host.trim_start_matches('[').trim_end_matches(']').to_string();
    let database = url.path().trim_start_matches('/').to_string();
    if database.is_empty() || database.contains('/') {
        return Err(bad("no database name (expected mysql://user@host:port/database)"));
    }
    let user = percent_decode(url.username());
    if user.is_empty() {
        return Err(bad("no user (expected mysql://user@host:port/database)"));
    }
    let password = password.or_else(|| url.password().map(|p| Secret::new(percent_decode(p))));
    let socket = url.query_pairs().find(|(k, _)| k == "socket").map(|(_, v)| PathBuf::from(v.into_owned()));
    Ok(DbTarget {
        engine,
        host,
        port: url.port().unwrap_or(3306),
        database: percent_decode(&database),
        user,
        password,
        socket,
        source: "--db",
    })
}

/// Why talking to the database failed, already scrubbed of the password.
#[derive(Debug, Clone, PartialEq)]
pub enum DbError {
    /// DNS failure, refusal, timeout, a dropped connection.
    Unreachable(String),
    /// MySQL error 1044/1045 (and 1698): the server refused the login.
    AuthFailed(String),
    /// A query failed (missing table 1146, missing column 1054, no SELECT right 1142…).
    Query { code: Option<u16>, message: String },
}

impl DbError {
    fn from_driver(e: mysql_async::Error, target: &DbTarget) -> Self {
        match e {
            mysql_async::Error::Server(s) => {
                let message = target.scrub(&format!("ERROR {} ({}): {}", s.code, s.state, s.message));
                match s.code {
                    1044 | 1045 | 1698 => DbError::AuthFailed(message),
                    _ => DbError::Query { code: Some(s.code), message },
                }
            }
            other => DbError::Unreachable(target.scrub(&innermost(&other))),
        }
    }

    /// The finding for this failure; `query` names what was being read.
    pub fn finding(&self, target: &DbTarget, query: &str) -> Finding {
        match self {
            DbError::Unreachable(e) => Finding::new(code::DB_UNREACHABLE).with("addr", target.addr()).with("error", e),
            DbError::AuthFailed(e) => Finding::new(code::DB_AUTH_FAILED)
                .with("user", &target.user)
                .with("addr", target.addr())
                .with("database", &target.database)
                .with("error", e),
            DbError::Query { message, .. } => Finding::new(code::DB_QUERY_FAILED)
                .with("table", query)
                .with("database", &target.database)
                .with("error", message),
        }
    }
}

/// The innermost cause of a driver error (`Connection refused (os error 111)`), without the
/// wrappers' repeated prefixes.
fn innermost(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

/// A read-only session: the transaction characteristic is set read-only before anything else,
/// a read-only transaction is opened, and [`Session::select`] refuses anything but SELECT.
pub struct Session {
    conn: Option<Conn>,
    target: DbTarget,
    timeout: Duration,
}

/// One row of text values (`None` for SQL NULL).
pub type TextRow = Vec<Option<String>>;

fn text(value: &Value) -> Option<String> {
    match value {
        Value::NULL => None,
        Value::Bytes(b) => Some(String::from_utf8_lossy(b).into_owned()),
        Value::Int(i) => Some(i.to_string()),
        Value::UInt(u) => Some(u.to_string()),
        Value::Float(f) => Some(f.to_string()),
        Value::Double(d) => Some(d.to_string()),
        Value::Date(y, mo, d, h, mi, s, _) => Some(format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}")),
        Value::Time(neg, d, h, m, s, _) => {
            Some(format!("{}{}:{m:02}:{s:02}", if *neg { "-" } else { "" }, u32::from(*h) + d * 24))
        }
    }
}

impl Session {
    /// Connects and makes the session read-only, each step bounded by `timeout`.
    pub async fn open(target: &DbTarget, timeout: Duration) -> Result<Session, DbError> {
        if target.engine != Engine::MySql {
            return Err(DbError::Unreachable("unsupported engine".into()));
        }
        let opts = OptsBuilder::default()
            .ip_or_hostname(target.host.clone())
            .tcp_port(target.port)
            .user(Some(target.user.clone()))
            .pass(target.password.as_ref().map(|p| p.expose().to_string()))
            .db_name(Some(target.database.clone()))
            .prefer_socket(false)
            .socket(target.socket.as_ref().map(|p| p.display().to_string()))
            .stmt_cache_size(0)
            .wait_timeout(Some(60))
            .init(vec!["SET SESSION TRANSACTION READ ONLY".to_string()]);
        let conn = match tokio::time::timeout(timeout, Conn::new(opts)).await {
            Err(_) => {
                return Err(DbError::Unreachable(format!("no answer within {}", crate::duration::humanize(timeout))))
            }
            Ok(Err(e)) => return Err(DbError::from_driver(e, target)),
            Ok(Ok(c)) => c,
        };
        let mut session = Session { conn: Some(conn), target: target.clone(), timeout };
        session.exec("START TRANSACTION READ ONLY").await?;
        Ok(session)
    }

    async fn exec(&mut self, sql: &str) -> Result<Vec<TextRow>, DbError> {
        let Some(conn) = self.conn.as_mut() else {
            return Err(DbError::Unreachable("connection closed".into()));
        };
        match tokio::time::timeout(self.timeout, conn.query::<Row, _>(sql)).await {
            Err(_) => {
                // A half-read answer leaves the connection unusable.
                self.conn = None;
                Err(DbError::Unreachable(format!("no answer within {}", crate::duration::humanize(self.timeout))))
            }
            Ok(Err(e)) => Err(DbError::from_driver(e, &self.target)),
            Ok(Ok(rows)) => {
                Ok(rows.iter().map(|r| (0..r.len()).map(|i| r.as_ref(i).and_then(text)).collect()).collect())
            }
        }
    }

    /// Runs one SELECT and returns its rows as text. Any other statement is refused here,
    /// before it reaches the server.
    pub async fn select(&mut self, sql: &str) -> Result<Vec<TextRow>, DbError> {
        let head = sql.trim_start().get(..6).unwrap_or("").to_ascii_uppercase();
        if head != "SELECT" || sql.contains(';') {
            return Err(DbError::Query { code: None, message: "only single SELECT statements are allowed".into() });
        }
        self.exec(sql).await
    }

    /// Asks the server itself to stop any statement of this session that runs longer than
    /// `limit` (MariaDB's `max_statement_time`, MySQL's `max_execution_time`), so that a query
    /// given up by the client does not go on loading the server. A server with neither keeps
    /// only the client-side timeout.
    pub async fn limit_statement_time(&mut self, limit: Duration) {
        let mariadb = format!("SET SESSION max_statement_time = {:.3}", limit.as_secs_f64());
        if self.exec(&mariadb).await.is_err() && self.conn.is_some() {
            let _ = self.exec(&format!("SET SESSION max_execution_time = {}", limit.as_millis())).await;
        }
    }

    /// The client-side time allowed to each statement from now on.
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }

    /// The underlying connection, for tests that prove the server refuses writes in this session.
    #[doc(hidden)]
    pub fn raw(&mut self) -> Option<&mut Conn> {
        self.conn.as_mut()
    }

    /// Ends the read-only transaction and closes the connection.
    pub async fn close(mut self) {
        if let Some(mut conn) = self.conn.take() {
            let _ = tokio::time::timeout(self.timeout, async {
                let _ = conn.query_drop("ROLLBACK").await;
                let _ = conn.disconnect().await;
            })
            .await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_forms() {
        let t = parse_url("mysql://sei_user@db.local:3307/sei", Some(Secret::new("pw"))).unwrap();
        assert_eq!(
            (t.host.as_str(), t.port, t.database.as_str(), t.user.as_str()),
            ("db.local", 3307, "sei", "sei_user")
        );
        assert_eq!(t.addr(), "db.local:3307");
        let t = parse_url("mariadb://u:p%40ss@[::1]/sei", None).unwrap();
        assert_eq!(t.password.as_ref().map(|p| p.expose()), Some("p@ss"));
        assert_eq!(t.addr(), "[::1]:3306");
        let t = parse_url("mysql://u@localhost/sei?socket=/run/m.sock", None).unwrap();
        assert_eq!(t.addr(), "unix:/run/m.sock");
        assert_eq!(parse_url("sqlserver://u@h/sei", None).unwrap_err().code, "DB_UNSUPPORTED");
        assert_eq!(parse_url("mysql://h/sei", None).unwrap_err().code, "DB_URL_INVALID");
        assert_eq!(parse_url("mysql://u@h", None).unwrap_err().code, "DB_URL_INVALID");
        assert_eq!(parse_url("not a url", None).unwrap_err().code, "DB_URL_INVALID");
    }

    #[test]
    fn scrubs_password() {
        let t = parse_url("mysql://u@h/sei", Some(Secret::new("s3cr3t"))).unwrap();
        assert_eq!(t.scrub("login u:s3cr3t failed"), "login u:*** failed");
    }

    #[test]
    fn engines() {
        assert_eq!(engine_of("MySql"), Engine::MySql);
        assert_eq!(engine_of("SqlServer"), Engine::Other("SqlServer".into()));
        assert_eq!(engine_of("Oracle"), Engine::Other("Oracle".into()));
    }

    #[tokio::test]
    async fn select_only() {
        let t = parse_url("mysql://u@127.0.0.1:1/sei", None).unwrap();
        let mut s = Session { conn: None, target: t, timeout: Duration::from_secs(1) };
        assert!(matches!(s.select("DELETE FROM x").await, Err(DbError::Query { code: None, .. })));
        assert!(matches!(s.select("SELECT 1; DROP TABLE x").await, Err(DbError::Query { code: None, .. })));
    }
}
