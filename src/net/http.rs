//! A small HTTP/1.1 client over a connection we opened ourselves (TCP, TLS or a unix socket):
//! one request at a time, keep-alive so several requests share one connection, every write and
//! read under the exchange's deadline, the head and the body bounded. `Content-Length`,
//! `chunked` (extensions and trailers) and read-until-close bodies; interim 1xx answers skipped.
//!
//! The reader is sans-I/O ([`Parser`]): the client feeds it what the socket gives, and tests and
//! fuzzing feed it bytes ([`parse`]).

use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::Instant;
use url::Url;

/// Most bytes of a response body kept; the rest is not read.
pub const MAX_BODY: usize = 1024 * 1024;
/// Most bytes of a response head (status line and headers), and of a chunked body's trailers.
pub const MAX_HEAD: usize = 64 * 1024;
/// Most bytes of one chunk-size line (size and extensions).
const MAX_CHUNK_LINE: usize = 4 * 1024;

/// The bounds of one response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub head: usize,
    pub body: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { head: MAX_HEAD, body: MAX_BODY }
    }
}

/// One request. Header values may carry credentials: a request is never printed.
pub struct Request<'a> {
    pub method: &'a str,
    /// Path and query.
    pub target: String,
    /// The `Host` header: the host, with the port when the URL names one.
    pub host: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: &'a [u8],
}

impl<'a> Request<'a> {
    /// A request for `url` (its path and query; its host and explicit port as `Host`).
    pub fn new(method: &'a str, url: &Url) -> Self {
        let mut target = url.path().to_string();
        if let Some(q) = url.query() {
            target.push('?');
            target.push_str(q);
        }
        let host = url.host_str().unwrap_or("");
        let host = match url.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.to_string(),
        };
        Request { method, target, host, headers: Vec::new(), body: &[] }
    }

    pub fn get(url: &Url) -> Self {
        Request::new("GET", url)
    }

    pub fn post(url: &Url, body: &'a [u8]) -> Self {
        Request { body, ..Request::new("POST", url) }
    }

    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// The request on the wire.
    pub fn encode(&self) -> Vec<u8> {
        let mut head = format!(
            "{} {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: pen-doctor/{}\r\n",
            self.method,
            if self.target.is_empty() { "/" } else { &self.target },
            self.host,
            env!("CARGO_PKG_VERSION")
        );
        for (name, value) in &self.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        if !self.body.is_empty() || self.method == "POST" || self.method == "PUT" {
            head.push_str(&format!("Content-Length: {}\r\n", self.body.len()));
        }
        head.push_str("\r\n");
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(self.body);
        bytes
    }
}

/// One response.
#[derive(Clone, Debug, Default)]
pub struct Response {
    /// The minor version of `HTTP/1.x`.
    pub minor_version: u8,
    pub status: u16,
    pub reason: String,
    pub headers: Vec<(String, String)>,
    /// The body, at most [`Limits::body`] bytes of it.
    pub body: Vec<u8>,
    /// The body went on past the limit: `body` is its beginning and the rest was not read.
    pub truncated: bool,
    /// The peer closed the connection before the end its framing announced.
    pub cut_short: bool,
    /// Our clock when the head arrived: with `Date`, the server's clock against ours.
    pub received_at: Option<std::time::SystemTime>,
}

impl Response {
    /// The first header of that name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The server's clock as it answered (`Date`, RFC 9110 IMF-fixdate), as sent.
    pub fn date(&self) -> Option<&str> {
        self.header("date")
    }

    /// Whether the server lets the connection carry another request.
    fn keeps_alive(&self) -> bool {
        let tokens = |name: &str| {
            self.headers
                .iter()
                .filter(|(k, _)| k.eq_ignore_ascii_case(name))
                .flat_map(|(_, v)| v.split(',').map(|t| t.trim().to_ascii_lowercase()))
                .collect::<Vec<_>>()
        };
        let connection = tokens("connection");
        if connection.iter().any(|t| t == "close") {
            return false;
        }
        self.minor_version >= 1 || connection.iter().any(|t| t == "keep-alive")
    }
}

/// Why an exchange gave no usable response.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// The deadline passed; `status` is the answer's status when its head had arrived, and
    /// `body_bytes` how much of its body had come.
    #[error("timeout")]
    Timeout { status: Option<u16>, body_bytes: usize },
    /// The peer closed the connection before sending anything.
    #[error("connection closed without an HTTP answer")]
    Closed,
    /// What came back is not an HTTP/1.x answer, or breaks its framing or the bounds.
    #[error(transparent)]
    Malformed(#[from] Malformed),
    /// The connection failed (a reset, a TLS alert: see `net::tls::tls_error`).
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// A clipped sample of the peer's own bytes (at most a few dozen characters), kept for the
/// report: shown quoted, with control characters and quotes escaped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sample(String);

impl Sample {
    /// The first `max` characters of `text`.
    fn new(text: &str, max: usize) -> Self {
        Sample(text.chars().take(max).collect())
    }

    /// The clipped text itself, unescaped.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Sample {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

/// How an answer breaks HTTP/1.x, its framing or our bounds. The English words are the facts
/// kept for machines, said in the report's language through `checks/phrases.toml`
/// (`[[message]]`); the peer's own bytes are a quoted [`Sample`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Malformed {
    /// The status line is not `HTTP/1.x NNN …` (another protocol answered, or garbage).
    #[error("not an HTTP answer: {status_line}")]
    NotHttp { status_line: Sample },
    /// The head (status line and headers) went past the bound without its blank line.
    #[error("response head larger than {limit} bytes")]
    HeadTooLarge { limit: usize },
    /// The peer closed the connection in the middle of the head.
    #[error("connection closed before the end of the answer's head ({received} bytes)")]
    HeadCutShort { received: usize },
    /// A `Content-Length` that is not a decimal number (or list of them).
    #[error("invalid Content-Length {value}")]
    InvalidContentLength { value: Sample },
    /// Two `Content-Length` values that disagree (a smuggling shape).
    #[error("conflicting Content-Length headers")]
    ConflictingContentLength { first: u64, second: u64 },
    /// A chunk-size line that is not a hexadecimal size (of at most 15 digits).
    #[error("bad chunk size {line}")]
    BadChunkSize { line: Sample },
    /// A chunk-size line (size and extensions) longer than the bound.
    #[error("chunk size line too long")]
    ChunkLineTooLong { limit: usize },
    /// A chunk's data not followed by its line end.
    #[error("chunk data not followed by CRLF")]
    ChunkWithoutCrlf,
    /// The trailers after the last chunk went past the head's bound.
    #[error("chunked trailers too large")]
    TrailersTooLarge { limit: usize },
}

#[cfg(test)]
impl Malformed {
    /// One of each kind, for the tests that say them (the match stops compiling when a kind is
    /// added, as a reminder to add it here).
    pub fn examples() -> [Malformed; 9] {
        let all = [
            Malformed::NotHttp { status_line: Sample::new("SSH-2.0-OpenSSH_9.2", 80) },
            Malformed::HeadTooLarge { limit: MAX_HEAD },
            Malformed::HeadCutShort { received: 29 },
            Malformed::InvalidContentLength { value: Sample::new("12abc", 40) },
            Malformed::ConflictingContentLength { first: 5, second: 6 },
            Malformed::BadChunkSize { line: Sample::new("zz", 40) },
            Malformed::ChunkLineTooLong { limit: MAX_CHUNK_LINE },
            Malformed::ChunkWithoutCrlf,
            Malformed::TrailersTooLarge { limit: MAX_HEAD },
        ];
        for m in &all {
            match m {
                Malformed::NotHttp { .. }
                | Malformed::HeadTooLarge { .. }
                | Malformed::HeadCutShort { .. }
                | Malformed::InvalidContentLength { .. }
                | Malformed::ConflictingContentLength { .. }
                | Malformed::BadChunkSize { .. }
                | Malformed::ChunkLineTooLong { .. }
                | Malformed::ChunkWithoutCrlf
                | Malformed::TrailersTooLarge { .. } => {}
            }
        }
        all
    }
}

impl HttpError {
    /// Nothing came back at all: the connection was closed or reset before any answer — what an
    /// idle connection the server already dropped looks like. Retrying on a new connection is
    /// safe for an idempotent request.
    pub fn nothing_received(&self) -> bool {
        use std::io::ErrorKind::*;
        match self {
            HttpError::Closed => true,
            HttpError::Io(e) => {
                matches!(e.kind(), ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof)
                    && super::tls::tls_error(e).is_none()
            }
            _ => false,
        }
    }
}

/// Where the reader stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Head,
    /// `Content-Length` bytes still to come.
    Length(u64),
    ChunkSize,
    ChunkData(u64),
    /// The CRLF after a chunk's data.
    ChunkEnd,
    /// Trailer lines after the last chunk, up to the blank line.
    Trailers,
    UntilClose,
    Done,
}

/// Reads one response from the bytes given to it (sans I/O).
pub struct Parser {
    limits: Limits,
    /// The request was `HEAD`: the answer has no body whatever its headers say.
    head_request: bool,
    state: State,
    /// Bytes received and not consumed yet.
    buf: Vec<u8>,
    /// Bytes received in all (to tell "nothing" from "something").
    received: usize,
    trailer_bytes: usize,
    head_seen: bool,
    response: Response,
}

impl Parser {
    pub fn new(limits: Limits, head_request: bool) -> Self {
        Parser {
            limits,
            head_request,
            state: State::Head,
            buf: Vec::new(),
            received: 0,
            trailer_bytes: 0,
            head_seen: false,
            response: Response::default(),
        }
    }

    /// The status of the answer, once its head was read.
    pub fn status(&self) -> Option<u16> {
        self.head_seen.then_some(self.response.status)
    }

    /// Gives the reader more bytes.
    pub fn push(&mut self, data: &[u8]) {
        self.received += data.len();
        self.buf.extend_from_slice(data);
    }

    /// Consumes what it can; `true` once the response is complete (or cut at the body limit).
    pub fn advance(&mut self) -> Result<bool, HttpError> {
        loop {
            match self.state {
                State::Done => return Ok(true),
                State::Head => {
                    let Some(end) = head_end(&self.buf) else {
                        if self.buf.len() > self.limits.head {
                            return Err(Malformed::HeadTooLarge { limit: self.limits.head }.into());
                        }
                        return Ok(false);
                    };
                    if end > self.limits.head {
                        return Err(Malformed::HeadTooLarge { limit: self.limits.head }.into());
                    }
                    let head = parse_head(&self.buf[..end])?;
                    self.buf.drain(..end);
                    // An interim answer (100 Continue…): the real one follows.
                    if (100..200).contains(&head.status) && head.status != 101 {
                        continue;
                    }
                    self.state = self.framing(&head)?;
                    self.response = head;
                    self.head_seen = true;
                }
                State::Length(left) => {
                    let n = (self.buf.len() as u64).min(left) as usize;
                    self.take_body(n);
                    let left = left - n as u64;
                    self.state = if left == 0 { State::Done } else { State::Length(left) };
                    if self.response.truncated {
                        self.state = State::Done;
                    }
                    if self.state != State::Done {
                        return Ok(false);
                    }
                }
                State::UntilClose => {
                    self.take_body(self.buf.len());
                    if self.response.truncated {
                        self.state = State::Done;
                        continue;
                    }
                    return Ok(false);
                }
                State::ChunkSize => {
                    let Some(eol) = self.buf.iter().position(|b| *b == b'\n') else {
                        if self.buf.len() > MAX_CHUNK_LINE {
                            return Err(Malformed::ChunkLineTooLong { limit: MAX_CHUNK_LINE }.into());
                        }
                        return Ok(false);
                    };
                    if eol > MAX_CHUNK_LINE {
                        return Err(Malformed::ChunkLineTooLong { limit: MAX_CHUNK_LINE }.into());
                    }
                    let line = String::from_utf8_lossy(&self.buf[..eol]).into_owned();
                    self.buf.drain(..=eol);
                    let size = chunk_size(&line)?;
                    self.state = if size == 0 { State::Trailers } else { State::ChunkData(size) };
                }
                State::ChunkData(left) => {
                    let n = (self.buf.len() as u64).min(left) as usize;
                    self.take_body(n);
                    let left = left - n as u64;
                    if self.response.truncated {
                        self.state = State::Done;
                        continue;
                    }
                    if left > 0 {
                        self.state = State::ChunkData(left);
                        return Ok(false);
                    }
                    self.state = State::ChunkEnd;
                }
                State::ChunkEnd => match self.buf.as_slice() {
                    [b'\r', b'\n', ..] => {
                        self.buf.drain(..2);
                        self.state = State::ChunkSize;
                    }
                    [b'\n', ..] => {
                        self.buf.drain(..1);
                        self.state = State::ChunkSize;
                    }
                    [] | [b'\r'] => return Ok(false),
                    _ => return Err(Malformed::ChunkWithoutCrlf.into()),
                },
                State::Trailers => {
                    let Some(eol) = self.buf.iter().position(|b| *b == b'\n') else {
                        if self.trailer_bytes + self.buf.len() > self.limits.head {
                            return Err(Malformed::TrailersTooLarge { limit: self.limits.head }.into());
                        }
                        return Ok(false);
                    };
                    self.trailer_bytes += eol + 1;
                    if self.trailer_bytes > self.limits.head {
                        return Err(Malformed::TrailersTooLarge { limit: self.limits.head }.into());
                    }
                    let blank = self.buf[..eol].iter().all(|b| *b == b'\r');
                    self.buf.drain(..=eol);
                    if blank {
                        self.state = State::Done;
                    }
                }
            }
        }
    }

    /// The peer closed the connection: completes the response or says why it cannot.
    pub fn eof(&mut self) -> Result<(), HttpError> {
        match self.state {
            State::Head if self.received == 0 => Err(HttpError::Closed),
            State::Head => Err(Malformed::HeadCutShort { received: self.buf.len() }.into()),
            State::UntilClose | State::Done => {
                self.state = State::Done;
                Ok(())
            }
            _ => {
                self.response.cut_short = true;
                self.state = State::Done;
                Ok(())
            }
        }
    }

    /// The response, and whether the connection can carry another request.
    pub fn finish(self) -> (Response, bool) {
        let reusable = self.state == State::Done
            && !self.response.truncated
            && !self.response.cut_short
            && self.buf.is_empty()
            && self.response.keeps_alive();
        (self.response, reusable)
    }

    /// How the body of this answer is delimited.
    fn framing(&mut self, head: &Response) -> Result<State, HttpError> {
        if self.head_request || head.status == 204 || head.status == 304 {
            return Ok(State::Done);
        }
        let codings: Vec<String> = head
            .headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("transfer-encoding"))
            .flat_map(|(_, v)| v.split(',').map(|c| c.trim().to_ascii_lowercase()))
            .filter(|c| !c.is_empty())
            .collect();
        if !codings.is_empty() {
            // Chunked last: chunked framing; any other last coding: the body ends with the connection.
            return Ok(if codings.last().is_some_and(|c| c == "chunked") {
                State::ChunkSize
            } else {
                State::UntilClose
            });
        }
        let mut length: Option<u64> = None;
        for (_, v) in head.headers.iter().filter(|(k, _)| k.eq_ignore_ascii_case("content-length")) {
            for part in v.split(',') {
                let n = part
                    .trim()
                    .parse::<u64>()
                    .map_err(|_| Malformed::InvalidContentLength { value: Sample::new(v, 40) })?;
                if let Some(first) = length.filter(|l| *l != n) {
                    return Err(Malformed::ConflictingContentLength { first, second: n }.into());
                }
                length = Some(n);
            }
        }
        Ok(match length {
            Some(0) => State::Done,
            Some(n) => State::Length(n),
            None => State::UntilClose,
        })
    }

    /// Moves `n` bytes from the buffer into the body, keeping at most the body limit.
    fn take_body(&mut self, n: usize) {
        let room = self.limits.body.saturating_sub(self.response.body.len());
        if n > room {
            self.response.body.extend_from_slice(&self.buf[..room]);
            self.response.truncated = true;
        } else {
            self.response.body.extend_from_slice(&self.buf[..n]);
        }
        self.buf.drain(..n);
    }
}

/// Where the head ends (after its blank line; bare LF tolerated), if it does.
fn head_end(buf: &[u8]) -> Option<usize> {
    let mut i = 0;
    while let Some(p) = buf[i..].iter().position(|b| *b == b'\n') {
        let nl = i + p;
        match buf.get(nl + 1) {
            Some(b'\n') => return Some(nl + 2),
            Some(b'\r') if buf.get(nl + 2) == Some(&b'\n') => return Some(nl + 3),
            _ => i = nl + 1,
        }
    }
    None
}

/// Parses a response head (status line and header lines, ending with the blank line).
fn parse_head(raw: &[u8]) -> Result<Response, Malformed> {
    let text = String::from_utf8_lossy(raw);
    let mut lines = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let status_line = lines.next().unwrap_or("");
    let not_http = || Malformed::NotHttp { status_line: Sample::new(status_line, 80) };
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or("");
    let minor_version = match version.strip_prefix("HTTP/1.") {
        Some(m) if m.len() == 1 => m.parse::<u8>().map_err(|_| not_http())?,
        _ => return Err(not_http()),
    };
    let status = parts
        .next()
        .filter(|s| s.len() == 3 && s.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(not_http)?;
    let reason = parts.next().unwrap_or("").trim().to_string();
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in lines {
        if line.is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            // An obsolete folded line continues the previous header.
            if let Some((_, v)) = headers.last_mut() {
                v.push(' ');
                v.push_str(line.trim());
            }
            continue;
        }
        if let Some((k, v)) = line.split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    Ok(Response { minor_version, status, reason, headers, ..Response::default() })
}

/// The size of a chunk from its size line (`1a;ext=x`).
fn chunk_size(line: &str) -> Result<u64, Malformed> {
    let digits = line.split(';').next().unwrap_or("").trim();
    let bad = || Malformed::BadChunkSize { line: Sample::new(line.trim(), 40) };
    if digits.is_empty() || digits.len() > 15 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad());
    }
    u64::from_str_radix(digits, 16).map_err(|_| bad())
}

/// Reads one whole response from bytes (the end of `data` is the end of the connection): for
/// tests and fuzzing.
pub fn parse(data: &[u8], limits: Limits) -> Result<Response, HttpError> {
    let mut parser = Parser::new(limits, false);
    parser.push(data);
    if !parser.advance()? {
        parser.eof()?;
    }
    Ok(parser.finish().0)
}

/// An HTTP/1.1 connection over a stream we opened.
pub struct Connection<S> {
    io: S,
    reusable: bool,
    requests: u32,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Connection<S> {
    pub fn new(io: S) -> Self {
        Connection { io, reusable: true, requests: 0 }
    }

    /// Whether the connection can carry another request: the last answer was read to its end
    /// and the server did not close it (or ask to).
    pub fn reusable(&self) -> bool {
        self.reusable
    }

    /// Requests sent on this connection so far.
    pub fn requests(&self) -> u32 {
        self.requests
    }

    pub fn get_ref(&self) -> &S {
        &self.io
    }

    /// Sends `request` and reads its answer, the whole exchange within `timeout`.
    pub async fn send(
        &mut self,
        request: &Request<'_>,
        limits: Limits,
        timeout: Duration,
    ) -> Result<Response, HttpError> {
        let deadline = Instant::now() + timeout;
        self.reusable = false;
        self.requests += 1;
        let bytes = request.encode();
        let write = async {
            self.io.write_all(&bytes).await?;
            self.io.flush().await
        };
        match tokio::time::timeout_at(deadline, write).await {
            Err(_) => return Err(HttpError::Timeout { status: None, body_bytes: 0 }),
            Ok(Err(e)) => return Err(HttpError::Io(e)),
            Ok(Ok(())) => {}
        }
        let mut parser = Parser::new(limits, request.method == "HEAD");
        let mut chunk = vec![0u8; 16 * 1024];
        let mut received_at = None;
        loop {
            let done = parser.advance()?;
            if received_at.is_none() && parser.status().is_some() {
                received_at = Some(std::time::SystemTime::now());
            }
            if done {
                break;
            }
            let n = match tokio::time::timeout_at(deadline, self.io.read(&mut chunk)).await {
                Err(_) => {
                    return Err(HttpError::Timeout { status: parser.status(), body_bytes: parser.response.body.len() })
                }
                Ok(Ok(n)) => n,
                // A TLS peer that closes without close_notify once its answer is under way.
                Ok(Err(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof && parser.received > 0 => 0,
                Ok(Err(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Err(HttpError::Closed),
                Ok(Err(e)) => return Err(HttpError::Io(e)),
            };
            if n == 0 {
                parser.eof()?;
                break;
            }
            parser.push(&chunk[..n]);
        }
        let (mut response, reusable) = parser.finish();
        response.received_at = received_at;
        self.reusable = reusable;
        Ok(response)
    }

    /// Closes the connection politely (TLS close_notify, then FIN), within `timeout`.
    pub async fn close(mut self, timeout: Duration) {
        let _ = tokio::time::timeout(timeout, self.io.shutdown()).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use tokio::net::{TcpListener, TcpStream};

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    /// What a scripted server does with one request on a connection.
    #[derive(Clone)]
    enum Answer {
        /// Writes these pieces, pausing between them.
        Pieces(Vec<Vec<u8>>, Duration),
        /// Writes the head, then chunks of zeros forever.
        EndlessChunks(Vec<u8>),
        /// Writes nothing and keeps the connection.
        Silence,
        /// Writes these bytes and closes the connection.
        Last(Vec<u8>),
        /// Closes the connection.
        Close,
    }

    /// A real loopback server: each connection answers the scripted requests in turn (after
    /// reading each request's head). Returns its address, the connections it accepted and the
    /// requests it read (as text).
    async fn server(
        script: Vec<Answer>,
    ) -> (std::net::SocketAddr, Arc<AtomicUsize>, Arc<std::sync::Mutex<Vec<String>>>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (acc, seen2) = (Arc::clone(&accepted), Arc::clone(&seen));
        tokio::spawn(async move {
            while let Ok((mut s, _)) = listener.accept().await {
                acc.fetch_add(1, Ordering::SeqCst);
                let (script, seen) = (script.clone(), Arc::clone(&seen2));
                tokio::spawn(async move {
                    let mut pending = Vec::new();
                    for answer in script {
                        // Read one request head (and its Content-Length body).
                        let mut buf = [0u8; 4096];
                        loop {
                            if let Some(end) = head_end(&pending) {
                                let head = String::from_utf8_lossy(&pending[..end]).into_owned();
                                let len = head
                                    .lines()
                                    .find_map(|l| l.strip_prefix("Content-Length: "))
                                    .and_then(|v| v.trim().parse::<usize>().ok())
                                    .unwrap_or(0);
                                if pending.len() >= end + len {
                                    seen.lock()
                                        .unwrap()
                                        .push(String::from_utf8_lossy(&pending[..end + len]).into_owned());
                                    pending.drain(..end + len);
                                    break;
                                }
                            }
                            match s.read(&mut buf).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => pending.extend_from_slice(&buf[..n]),
                            }
                        }
                        match answer {
                            Answer::Pieces(pieces, pause) => {
                                for p in pieces {
                                    if s.write_all(&p).await.is_err() {
                                        return;
                                    }
                                    let _ = s.flush().await;
                                    tokio::time::sleep(pause).await;
                                }
                            }
                            Answer::EndlessChunks(head) => {
                                if s.write_all(&head).await.is_err() {
                                    return;
                                }
                                let chunk = format!("4000\r\n{}\r\n", "0".repeat(0x4000));
                                while s.write_all(chunk.as_bytes()).await.is_ok() {}
                                return;
                            }
                            Answer::Silence => {
                                tokio::time::sleep(Duration::from_secs(30)).await;
                                return;
                            }
                            Answer::Last(bytes) => {
                                let _ = s.write_all(&bytes).await;
                                return;
                            }
                            Answer::Close => return,
                        }
                    }
                    // Keep the connection until the client closes it.
                    let mut buf = [0u8; 64];
                    while matches!(s.read(&mut buf).await, Ok(n) if n > 0) {}
                });
            }
        });
        (addr, accepted, seen)
    }

    fn whole(bytes: &str) -> Answer {
        Answer::Pieces(vec![bytes.as_bytes().to_vec()], Duration::ZERO)
    }

    /// Byte by byte, with a pause: every boundary of the framing falls between two reads.
    fn dribble(bytes: &str) -> Answer {
        Answer::Pieces(bytes.bytes().map(|b| vec![b]).collect(), Duration::from_millis(1))
    }

    async fn connect(addr: std::net::SocketAddr) -> Connection<TcpStream> {
        Connection::new(TcpStream::connect(addr).await.unwrap())
    }

    const T: Duration = Duration::from_secs(5);

    #[tokio::test]
    async fn keep_alive_carries_several_requests_on_one_connection() {
        let (addr, accepted, seen) = server(vec![
            whole("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nDate: Tue, 03 Jun 2025 10:00:00 GMT\r\n\r\nhello"),
            whole("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"),
            whole("HTTP/1.1 204 No Content\r\n\r\n"),
            whole("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"),
        ])
        .await;
        let mut c = connect(addr).await;
        let u = url(&format!("http://api.test:{}/rest/healthcheck?x=1", addr.port()));
        let r = c.send(&Request::get(&u), Limits::default(), T).await.unwrap();
        assert_eq!((r.status, r.body.as_slice()), (200, b"hello".as_slice()));
        assert_eq!(r.date(), Some("Tue, 03 Jun 2025 10:00:00 GMT"));
        assert!(r.received_at.is_some_and(|t| t <= std::time::SystemTime::now()));
        assert!(c.reusable());
        let r = c
            .send(&Request::post(&u, b"{}").header("Content-Type", "application/json"), Limits::default(), T)
            .await
            .unwrap();
        assert_eq!(r.body, b"abc");
        assert!(c.reusable());
        let r = c.send(&Request::get(&u), Limits::default(), T).await.unwrap();
        assert_eq!((r.status, r.body.len()), (204, 0));
        assert!(c.reusable());
        let r = c.send(&Request::get(&u), Limits::default(), T).await.unwrap();
        assert_eq!(r.body, b"ok");
        assert!(!c.reusable(), "Connection: close");
        assert_eq!((accepted.load(Ordering::SeqCst), c.requests()), (1, 4));
        let requests = seen.lock().unwrap().clone();
        assert!(requests[0].starts_with("GET /rest/healthcheck?x=1 HTTP/1.1\r\n"), "{}", requests[0]);
        assert!(requests[0].contains(&format!("\r\nHost: api.test:{}\r\n", addr.port())));
        assert!(requests[1].starts_with("POST ") && requests[1].ends_with("Content-Length: 2\r\n\r\n{}"));
    }

    #[tokio::test]
    async fn chunked_edge_cases_arriving_byte_by_byte() {
        let answer = "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n\
                      A;name=value\r\n0123456789\r\n\
                      1\nX\n\
                      0\r\nX-Trailer: t\r\n\r\n";
        let (addr, _, _) = server(vec![dribble(answer), whole("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n!")]).await;
        let mut c = connect(addr).await;
        let u = url(&format!("http://127.0.0.1:{}/", addr.port()));
        let r = c.send(&Request::get(&u), Limits::default(), T).await.unwrap();
        assert_eq!(r.text(), "0123456789X");
        assert!(c.reusable(), "trailers consumed, the next answer starts clean");
        assert_eq!(c.send(&Request::get(&u), Limits::default(), T).await.unwrap().body, b"!");
    }

    /// What a real loopback peer's answer fails with, and whether the connection is dropped.
    async fn malformation(answer: Answer, limits: Limits) -> Malformed {
        let (addr, _, _) = server(vec![answer]).await;
        let mut c = connect(addr).await;
        let err = c.send(&Request::get(&url("http://h/")), limits, T).await.unwrap_err();
        assert!(!c.reusable(), "a broken answer leaves the connection unusable");
        match err {
            HttpError::Malformed(m) => m,
            other => panic!("not a malformation: {other:?}"),
        }
    }

    fn sample(text: &str) -> Sample {
        Sample(text.into())
    }

    const CHUNKED: &str = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";

    #[tokio::test]
    async fn bad_chunk_sizes_are_malformed() {
        for (bad, expected) in [
            ("ffffffffffffffffff\r\nx", Malformed::BadChunkSize { line: sample("ffffffffffffffffff") }),
            ("zz;ext=1\r\nx", Malformed::BadChunkSize { line: sample("zz;ext=1") }),
            ("\r\n", Malformed::BadChunkSize { line: sample("") }),
            ("3\r\nabcX0\r\n\r\n", Malformed::ChunkWithoutCrlf),
        ] {
            let got = malformation(whole(&format!("{CHUNKED}{bad}")), Limits::default()).await;
            assert_eq!(got, expected, "{bad:?}");
        }
    }

    #[tokio::test]
    async fn every_malformation_is_typed_from_a_real_peer() {
        let small = Limits { head: 256, body: MAX_BODY };
        let cases: Vec<(Answer, Limits, Malformed)> = vec![
            (
                whole("SSH-2.0-OpenSSH_9.2\r\n\r\n"),
                Limits::default(),
                Malformed::NotHttp { status_line: sample("SSH-2.0-OpenSSH_9.2") },
            ),
            (
                whole(&format!("HTTP/1.1 200 OK\r\n{}", "X-Pad: aaaaaaaaaaaaaaaaaaaaaaaa\r\n".repeat(20))),
                small,
                Malformed::HeadTooLarge { limit: 256 },
            ),
            (
                whole(&format!("HTTP/1.1 200 OK\r\n{}\r\n", "X-Pad: aaaaaaaaaaaaaaaaaaaaaaaa\r\n".repeat(20))),
                small,
                Malformed::HeadTooLarge { limit: 256 },
            ),
            (
                Answer::Last(b"HTTP/1.1 200 OK\r\nServer: half".to_vec()),
                Limits::default(),
                Malformed::HeadCutShort { received: 29 },
            ),
            (
                whole("HTTP/1.1 200 OK\r\nContent-Length: 12abc\r\n\r\n"),
                Limits::default(),
                Malformed::InvalidContentLength { value: sample("12abc") },
            ),
            (
                whole("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"),
                Limits::default(),
                Malformed::ConflictingContentLength { first: 5, second: 6 },
            ),
            (whole(&format!("{CHUNKED}zz\r\n")), Limits::default(), Malformed::BadChunkSize { line: sample("zz") }),
            (
                whole(&format!("{CHUNKED}1;{}", "e".repeat(MAX_CHUNK_LINE + 10))),
                Limits::default(),
                Malformed::ChunkLineTooLong { limit: MAX_CHUNK_LINE },
            ),
            (
                whole(&format!("{CHUNKED}1;{}\r\nx\r\n0\r\n\r\n", "e".repeat(MAX_CHUNK_LINE + 10))),
                Limits::default(),
                Malformed::ChunkLineTooLong { limit: MAX_CHUNK_LINE },
            ),
            (whole(&format!("{CHUNKED}3\r\nabcdef")), Limits::default(), Malformed::ChunkWithoutCrlf),
            (
                whole(&format!("{CHUNKED}0\r\n{}", "X-Trailer: tttttttttttttttttttt\r\n".repeat(20))),
                small,
                Malformed::TrailersTooLarge { limit: 256 },
            ),
            (
                whole(&format!("{CHUNKED}0\r\nX-Trailer: {}", "t".repeat(300))),
                small,
                Malformed::TrailersTooLarge { limit: 256 },
            ),
        ];
        for (answer, limits, expected) in cases {
            let got = malformation(answer, limits).await;
            assert_eq!(got, expected);
        }
    }

    #[tokio::test]
    async fn the_peers_bytes_are_clipped_and_escaped() {
        // A terminal escape and a long line in place of a status line: quoted, escaped, clipped.
        let line = format!("\u{1b}]0;owned\u{7}{}", "A".repeat(200));
        let got = malformation(whole(&format!("{line}\r\n\r\n")), Limits::default()).await;
        let Malformed::NotHttp { status_line } = &got else { panic!("{got:?}") };
        assert_eq!(status_line.as_str().chars().count(), 80);
        let said = got.to_string();
        assert!(said.starts_with("not an HTTP answer: \"\\u{1b}]0;owned\\u{7}AAA"), "{said}");
        assert!(!said.chars().any(char::is_control), "{said:?}");

        let got = malformation(
            whole(&format!("HTTP/1.1 200 OK\r\nContent-Length: \"{}\r\n\r\n", "9".repeat(100))),
            Limits::default(),
        )
        .await;
        assert_eq!(got.to_string(), format!("invalid Content-Length \"\\\"{}\"", "9".repeat(39)));
    }

    #[tokio::test]
    async fn bodies_are_capped_and_the_connection_dropped() {
        // A declared 2 MiB body, and an endless chunked one.
        let big = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{}", 2 * MAX_BODY, "a".repeat(2 * MAX_BODY));
        let (addr, _, _) = server(vec![whole(&big)]).await;
        let mut c = connect(addr).await;
        let u = url(&format!("http://127.0.0.1:{}/", addr.port()));
        let r = c.send(&Request::get(&u), Limits::default(), T).await.unwrap();
        assert_eq!((r.body.len(), r.truncated), (MAX_BODY, true));
        assert!(!c.reusable());

        let (addr, _, _) =
            server(vec![Answer::EndlessChunks(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec())])
                .await;
        let mut c = connect(addr).await;
        let limits = Limits { head: MAX_HEAD, body: 100_000 };
        let r = c.send(&Request::get(&u), limits, T).await.unwrap();
        assert_eq!((r.body.len(), r.truncated), (100_000, true));
    }

    #[tokio::test]
    async fn endless_heads_are_refused() {
        let head = format!("HTTP/1.1 200 OK\r\n{}", "X-Endless: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n".repeat(5000));
        let (addr, _, _) = server(vec![whole(&head)]).await;
        let mut c = connect(addr).await;
        let err = c.send(&Request::get(&url("http://h/")), Limits::default(), T).await.unwrap_err();
        assert!(matches!(err, HttpError::Malformed(Malformed::HeadTooLarge { limit: MAX_HEAD })), "{err:?}");
        assert_eq!(err.to_string(), "response head larger than 65536 bytes");
    }

    #[tokio::test]
    async fn every_read_is_under_the_deadline() {
        // Silence: no head at all. A head, then a body that stops coming: the status is known.
        let (addr, _, _) = server(vec![Answer::Silence]).await;
        let mut c = connect(addr).await;
        let started = std::time::Instant::now();
        let err =
            c.send(&Request::get(&url("http://h/")), Limits::default(), Duration::from_millis(300)).await.unwrap_err();
        assert!(matches!(err, HttpError::Timeout { status: None, body_bytes: 0 }), "{err:?}");
        assert!(started.elapsed() < Duration::from_secs(2));

        let trickle = Answer::Pieces(
            vec![b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec(); 1]
                .into_iter()
                .chain(std::iter::repeat_n(b"1\r\nz\r\n".to_vec(), 100))
                .collect(),
            Duration::from_millis(50),
        );
        let (addr, _, _) = server(vec![trickle]).await;
        let mut c = connect(addr).await;
        let err =
            c.send(&Request::get(&url("http://h/")), Limits::default(), Duration::from_millis(400)).await.unwrap_err();
        assert!(matches!(err, HttpError::Timeout { status: Some(200), body_bytes: 1..=100 }), "{err:?}");
        assert!(!c.reusable());
    }

    #[tokio::test]
    async fn closes_told_apart() {
        // Closed before any byte: nothing received (an idle connection the server dropped).
        let (addr, _, _) = server(vec![Answer::Close]).await;
        let mut c = connect(addr).await;
        let err = c.send(&Request::get(&url("http://h/")), Limits::default(), T).await.unwrap_err();
        assert!(matches!(err, HttpError::Closed) && err.nothing_received(), "{err:?}");

        // A body read until the close; and a Content-Length body cut short.
        let (addr, _, _) = server(vec![Answer::Last(b"HTTP/1.0 200 OK\r\n\r\nuntil the end".to_vec())]).await;
        let mut c = connect(addr).await;
        let r = c.send(&Request::get(&url("http://h/")), Limits::default(), T).await.unwrap();
        assert_eq!((r.text().as_str(), r.cut_short, c.reusable()), ("until the end", false, false));

        let (addr, _, _) =
            server(vec![Answer::Last(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort".to_vec())]).await;
        let mut c = connect(addr).await;
        let r = c.send(&Request::get(&url("http://h/")), Limits::default(), T).await.unwrap();
        assert_eq!((r.text().as_str(), r.cut_short, c.reusable()), ("short", true, false));
    }

    #[tokio::test]
    async fn interim_answers_are_skipped_and_not_http_is_malformed() {
        let (addr, _, _) =
            server(vec![whole("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")]).await;
        let mut c = connect(addr).await;
        let r = c.send(&Request::get(&url("http://h/")), Limits::default(), T).await.unwrap();
        assert_eq!((r.status, r.body.as_slice()), (200, b"ok".as_slice()));

        let (addr, _, _) = server(vec![whole("SSH-2.0-OpenSSH_9.2\r\n\r\n")]).await;
        let mut c = connect(addr).await;
        let err = c.send(&Request::get(&url("http://h/")), Limits::default(), T).await.unwrap_err();
        assert_eq!(err.to_string(), "not an HTTP answer: \"SSH-2.0-OpenSSH_9.2\"");
    }

    #[tokio::test]
    async fn unix_sockets_speak_the_same_http() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sock");
        let listener = tokio::net::UnixListener::bind(&path).unwrap();
        tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 1024];
            let _ = s.read(&mut buf).await;
            let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nrpc").await;
        });
        let mut c = Connection::new(tokio::net::UnixStream::connect(&path).await.unwrap());
        let r = c.send(&Request::get(&url("http://localhost/RPC2")), Limits::default(), T).await.unwrap();
        assert_eq!(r.body, b"rpc");
    }

    #[test]
    fn parse_from_bytes() {
        let r = parse(b"HTTP/1.1 200 OK\nA: b\n  c\n\nbody", Limits::default()).unwrap();
        assert_eq!((r.header("a"), r.text().as_str()), (Some("b c"), "body"));
        assert!(matches!(parse(b"", Limits::default()), Err(HttpError::Closed)));
        let malformed = |bytes: &[u8]| match parse(bytes, Limits::default()) {
            Err(HttpError::Malformed(m)) => m,
            other => panic!("{other:?}"),
        };
        assert_eq!(malformed(b"HTTP/1.1 200"), Malformed::HeadCutShort { received: 12 });
        assert_eq!(
            malformed(b"HTTP/1.1 200 OK\r\nContent-Length: 1, 2\r\n\r\n"),
            Malformed::ConflictingContentLength { first: 1, second: 2 }
        );
        assert_eq!(
            malformed(b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"),
            Malformed::InvalidContentLength { value: sample("-1") }
        );
        assert_eq!(malformed(b"HTTP/2 200 OK\r\n\r\n"), Malformed::NotHttp { status_line: sample("HTTP/2 200 OK") });
    }

    #[test]
    fn random_answers_never_panic() {
        let seeds: [&[u8]; 4] = [
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n0\r\nT: 1\r\n\r\n",
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 200 OK\r\n\r\nrest",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\nx",
        ];
        crate::mutation::mutants(&seeds, 5000, |v| {
            let _ = parse(v, Limits { head: 256, body: 64 });
        });
    }
}
