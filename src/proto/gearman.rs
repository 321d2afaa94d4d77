//! gearmand's administrative text protocol (`version`, `status`, `workers`): a client bounded in
//! time and size (its host resolved and connected through `net` like every target), and parsers
//! for its answers.

use crate::net::connect::{self, ConnectError};
use crate::net::resolve::{self, ResolveConfig, ResolveFailure};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// Largest answer read for one command.
pub const MAX_ANSWER: usize = 1024 * 1024;

/// One line of `status`: a function and its queue.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct FunctionStatus {
    pub function: String,
    /// Jobs queued or running.
    pub total: u64,
    pub running: u64,
    /// Workers registered for the function.
    pub workers: u64,
}

impl FunctionStatus {
    /// Jobs waiting for a worker.
    pub fn queued(&self) -> u64 {
        self.total.saturating_sub(self.running)
    }
}

/// One line of `workers`: a connected worker and the functions it registered.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Worker {
    pub fd: String,
    pub address: String,
    pub client_id: String,
    pub functions: Vec<String>,
}

/// Why talking to gearmand failed.
#[derive(Debug)]
pub enum Error {
    /// The host's name did not resolve (`--resolve`, `/etc/hosts`, DNS).
    Resolve(ResolveFailure),
    /// The TCP connection failed (refused, unreachable, timed out) on every address.
    Connect(ConnectError),
    /// Connected, but no complete answer within the timeout.
    Silent,
    /// The peer answered something that is not gearmand's admin protocol.
    Protocol(Protocol),
    /// An I/O error after connecting (reset…).
    Io(String),
}

/// What in the peer's answer is not gearmand's admin protocol. The peer's own text is kept
/// quoted (printable, at most 80 characters); the English words are the facts kept for machines
/// and said in the report's language through `checks/phrases.toml` (`[[message]]`).
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum Protocol {
    #[error("connection closed before the answer ended")]
    ClosedEarly,
    #[error("answer longer than {0} bytes")]
    TooLong(usize),
    #[error("the server refused the command: {0}")]
    Refused(String),
    #[error("unexpected answer to 'version': {0}")]
    Version(String),
    #[error("unexpected line in 'status': {0}")]
    Status(String),
    #[error("unexpected line in 'workers': {0}")]
    Workers(String),
}

/// A connection to gearmand's admin port.
pub struct Client {
    reader: BufReader<TcpStream>,
    timeout: Duration,
}

impl Client {
    /// Resolves `addr` (`HOST:PORT`, `[V6]:PORT`) under `resolve` and connects to the first of
    /// its addresses that accepts, each attempt within `timeout`.
    pub async fn connect(addr: &str, resolve: &ResolveConfig, timeout: Duration) -> Result<Client, Error> {
        let (host, port) = split_addr(addr);
        let resolved = resolve::resolve(resolve, &host, port).await.map_err(Error::Resolve)?;
        let stream = connect::first_of(&resolved.socket_addrs(), timeout).await.map_err(Error::Connect)?;
        Ok(Client { reader: BufReader::new(stream), timeout })
    }

    async fn send(&mut self, command: &str) -> Result<(), Error> {
        let bytes = format!("{command}\n");
        let fut = self.reader.get_mut().write_all(bytes.as_bytes());
        match tokio::time::timeout(self.timeout, fut).await {
            Err(_) => Err(Error::Silent),
            Ok(Err(e)) => Err(Error::Io(e.to_string())),
            Ok(Ok(())) => Ok(()),
        }
    }

    /// Reads one line (without its end), bounded by `budget` bytes.
    async fn line(&mut self, budget: &mut usize) -> Result<String, Error> {
        let mut buf = Vec::new();
        let fut = async {
            loop {
                let chunk = self.reader.fill_buf().await.map_err(|e| Error::Io(e.to_string()))?;
                if chunk.is_empty() {
                    return Err(Error::Protocol(Protocol::ClosedEarly));
                }
                let (take, done) = match chunk.iter().position(|b| *b == b'\n') {
                    Some(i) => (i + 1, true),
                    None => (chunk.len(), false),
                };
                if take > *budget {
                    return Err(Error::Protocol(Protocol::TooLong(MAX_ANSWER)));
                }
                *budget -= take;
                buf.extend_from_slice(&chunk[..take]);
                self.reader.consume(take);
                if done {
                    return Ok(());
                }
            }
        };
        match tokio::time::timeout(self.timeout, fut).await {
            Err(_) => return Err(Error::Silent),
            Ok(r) => r?,
        }
        while matches!(buf.last(), Some(b'\n' | b'\r')) {
            buf.pop();
        }
        Ok(String::from_utf8_lossy(&buf).into_owned())
    }

    /// Sends a command whose answer is a list ended by a line holding a single `.`.
    async fn list(&mut self, command: &str) -> Result<Vec<String>, Error> {
        self.send(command).await?;
        let mut budget = MAX_ANSWER;
        let mut lines = Vec::new();
        loop {
            let line = self.line(&mut budget).await?;
            if line == "." {
                return Ok(lines);
            }
            if line.starts_with("ERR ") && lines.is_empty() {
                return Err(Error::Protocol(Protocol::Refused(printable(&line))));
            }
            lines.push(line);
        }
    }

    /// `version`: gearmand answers `OK 1.1.19.1`.
    pub async fn version(&mut self) -> Result<String, Error> {
        self.send("version").await?;
        let mut budget = 4096;
        let line = self.line(&mut budget).await?;
        parse_version(&line)
    }

    pub async fn status(&mut self) -> Result<Vec<FunctionStatus>, Error> {
        let lines = self.list("status").await?;
        lines.iter().map(|l| parse_status_line(l)).collect()
    }

    pub async fn workers(&mut self) -> Result<Vec<Worker>, Error> {
        let lines = self.list("workers").await?;
        lines.iter().map(|l| parse_worker_line(l)).collect()
    }
}

/// `HOST:PORT`, `[V6]:PORT` or a bare name or address (gearmand's port 4730).
pub fn split_addr(addr: &str) -> (String, u16) {
    connect::split_host_port(addr.trim(), 4730)
}

fn printable(line: &str) -> String {
    let clean: String = line.chars().map(|c| if c.is_control() { '?' } else { c }).take(80).collect();
    format!("{clean:?}")
}

/// Parses the answer to `version`.
pub fn parse_version(line: &str) -> Result<String, Error> {
    let v = line.strip_prefix("OK ").map(str::trim).unwrap_or("");
    if !v.is_empty() && v.chars().all(|c| c.is_ascii_alphanumeric() || ".-_+".contains(c)) {
        Ok(v.to_string())
    } else {
        Err(Error::Protocol(Protocol::Version(printable(line))))
    }
}

/// Parses `FUNCTION\tTOTAL\tRUNNING\tAVAILABLE_WORKERS`.
pub fn parse_status_line(line: &str) -> Result<FunctionStatus, Error> {
    let bad = || Error::Protocol(Protocol::Status(printable(line)));
    let fields: Vec<&str> = line.split('\t').collect();
    if fields.len() != 4 || fields[0].is_empty() {
        return Err(bad());
    }
    let num = |s: &str| s.trim().parse::<u64>().map_err(|_| bad());
    Ok(FunctionStatus {
        function: fields[0].to_string(),
        total: num(fields[1])?,
        running: num(fields[2])?,
        workers: num(fields[3])?,
    })
}

/// Parses `FD IP-ADDRESS CLIENT-ID : FUNCTION ...`.
pub fn parse_worker_line(line: &str) -> Result<Worker, Error> {
    let bad = || Error::Protocol(Protocol::Workers(printable(line)));
    let (head, functions) = match line.find(" : ") {
        Some(i) => (&line[..i], &line[i + 3..]),
        None => (line.strip_suffix(" :").ok_or_else(bad)?, ""),
    };
    let mut h = head.split_whitespace();
    let fd = h.next().ok_or_else(bad)?;
    if !fd.chars().all(|c| c.is_ascii_digit()) {
        return Err(bad());
    }
    let address = h.next().ok_or_else(bad)?.to_string();
    let client_id = h.next().unwrap_or("-").to_string();
    Ok(Worker {
        fd: fd.to_string(),
        address,
        client_id,
        functions: functions.split_whitespace().map(str::to_string).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_answers() {
        assert_eq!(parse_version("OK 1.1.19.1").unwrap(), "1.1.19.1");
        assert!(parse_version("HTTP/1.1 400 Bad Request").is_err());
        assert!(parse_version("OK \u{1}\u{2}").is_err());
        let s = parse_status_line("enviarProcesso\t5\t1\t2").unwrap();
        assert_eq!((s.total, s.running, s.workers, s.queued()), (5, 1, 2, 4));
        assert!(parse_status_line("enviarProcesso 5 1 2").is_err());
        assert!(parse_status_line("a\tb\tc\td").is_err());
        let w = parse_worker_line("33 127.0.0.1 - : receberProcedimento enviarProcesso").unwrap();
        assert_eq!(w.functions, vec!["receberProcedimento", "enviarProcesso"]);
        let w = parse_worker_line("34 ::1 - :").unwrap();
        assert!(w.functions.is_empty());
        assert!(parse_worker_line("garbage").is_err());
        assert_eq!(split_addr("gearman.test:4731"), ("gearman.test".into(), 4731));
        assert_eq!(split_addr("[::1]:4730"), ("::1".into(), 4730));
        assert_eq!(split_addr("10.0.0.1"), ("10.0.0.1".into(), 4730));
    }
}
