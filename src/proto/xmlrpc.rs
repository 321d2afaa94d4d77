//! supervisord's XML-RPC over HTTP/1.1, on its unix socket or inet port (the inet host resolved
//! and connected through `net` like every target, then the one HTTP client of `net::http`,
//! bounded in time and size), and a small, strict parser for XML-RPC responses. What is wrong in
//! an answer is typed ([`Protocol`]); its English words are said in the report's language
//! through `checks/phrases.toml` (`[[message]]`).

use crate::net::auth;
use crate::net::connect::{self, ConnectError};
use crate::net::http::{self, HttpError, Limits, Request, Response};
use crate::net::resolve::{self, ResolveConfig, ResolveFailure};
use crate::secret::Secret;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;
use url::Url;

/// Largest HTTP response read.
pub const MAX_RESPONSE: usize = 4 * 1024 * 1024;
const MAX_DEPTH: usize = 64;

/// Where supervisord listens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Endpoint {
    Unix(PathBuf),
    /// `host:port`.
    Tcp(String),
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Endpoint::Unix(p) => write!(f, "unix://{}", p.display()),
            Endpoint::Tcp(a) => write!(f, "http://{a}"),
        }
    }
}

impl Endpoint {
    /// Parses `unix:///path` or `http://host:port` (as `--supervisor` takes them).
    pub fn parse(text: &str) -> Option<Endpoint> {
        if let Some(p) = text.strip_prefix("unix://") {
            return (!p.is_empty()).then(|| Endpoint::Unix(PathBuf::from(p)));
        }
        let rest = text.strip_prefix("http://").unwrap_or(text);
        let hostport = rest.split('/').next().unwrap_or("");
        if hostport.is_empty() {
            return None;
        }
        Some(Endpoint::Tcp(if hostport.contains(':') { hostport.to_string() } else { format!("{hostport}:80") }))
    }
}

/// An XML-RPC value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Int(i64),
    Bool(bool),
    Str(String),
    Double(f64),
    Array(Vec<Value>),
    Struct(BTreeMap<String, Value>),
    Nil,
}

impl Value {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Struct(m) => m.get(key),
            _ => None,
        }
    }
}

/// A parameter of a call.
pub enum Param<'a> {
    Str(&'a str),
    Int(i64),
}

/// Why a call gave no value.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The inet host's name did not resolve (`--resolve`, `/etc/hosts`, DNS).
    #[error(transparent)]
    Resolve(ResolveFailure),
    /// No TCP connection to the inet port (every address tried).
    #[error(transparent)]
    Connect(ConnectError),
    /// The unix socket could not be opened.
    #[error("{0}")]
    Socket(std::io::Error),
    #[error("no answer (timeout)")]
    Timeout,
    /// HTTP 401: credentials missing or refused.
    #[error("HTTP 401 (credentials refused)")]
    Unauthorized,
    #[error("HTTP {0}")]
    Http(u16),
    /// The HTTP answer itself is broken (closed early, not HTTP, bad framing).
    #[error(transparent)]
    Transport(HttpError),
    #[error("fault {0}: {1}")]
    Fault(i64, String),
    /// The answer is not the XML-RPC answer asked for.
    #[error(transparent)]
    Protocol(#[from] Protocol),
}

/// What in supervisord's answer is not XML-RPC as asked. The peer's own text is kept quoted
/// (printable, clipped); the English words are the facts kept for machines and said in the
/// report's language through `checks/phrases.toml` (`[[message]]`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Protocol {
    #[error("response longer than {0} bytes")]
    TooLong(usize),
    #[error("response shorter than its Content-Length")]
    CutShort,
    #[error("response body is not UTF-8")]
    NotUtf8,
    #[error("invalid XML: {0}")]
    Xml(Xml),
    #[error("not an XML-RPC response (<{0}>)")]
    NotResponse(String),
    #[error("XML-RPC response without a value")]
    NoValue,
    #[error("invalid XML-RPC value: int {0}")]
    Int(String),
    #[error("invalid XML-RPC value: boolean {0}")]
    Boolean(String),
    #[error("invalid XML-RPC value: double {0}")]
    Double(String),
    #[error("invalid XML-RPC value: array without data")]
    ArrayWithoutData,
    #[error("invalid XML-RPC value: member without name")]
    MemberWithoutName,
    #[error("invalid XML-RPC value: member without value")]
    MemberWithoutValue,
    #[error("invalid XML-RPC value: type <{0}>")]
    UnknownType(String),
    /// A method whose answer must be a list answered something else.
    #[error("{0} did not return a list")]
    NotAList(String),
}

/// What is wrong in the XML of an answer.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Xml {
    #[error("bad entity")]
    BadEntity,
    #[error("unknown entity &{0};")]
    UnknownEntity(String),
    #[error("text outside the document")]
    TextOutside,
    #[error("unbalanced elements")]
    Unbalanced,
    #[error("unterminated declaration")]
    UnterminatedDeclaration,
    #[error("unterminated comment")]
    UnterminatedComment,
    #[error("unterminated CDATA")]
    UnterminatedCdata,
    #[error("unterminated tag")]
    UnterminatedTag,
    #[error("</{close}> closes <{open}>")]
    Mismatched { close: String, open: String },
    #[error("bad tag name")]
    BadTagName,
    #[error("nested deeper than {0} levels")]
    TooDeep(usize),
    #[error("document ends inside an element")]
    EndsInside,
    #[error("not exactly one root element")]
    NotOneRoot,
}

impl From<Xml> for Error {
    fn from(x: Xml) -> Self {
        Error::Protocol(Protocol::Xml(x))
    }
}

/// The peer's text, printable and clipped, for a message.
fn clip(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { '?' } else { c }).take(40).collect()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// The XML body of a call.
pub fn request_body(method: &str, params: &[Param]) -> String {
    let mut b = format!("<?xml version=\"1.0\"?>\n<methodCall><methodName>{}</methodName><params>", escape(method));
    for p in params {
        match p {
            Param::Str(s) => b.push_str(&format!("<param><value><string>{}</string></value></param>", escape(s))),
            Param::Int(i) => b.push_str(&format!("<param><value><int>{i}</int></value></param>")),
        }
    }
    b.push_str("</params></methodCall>\n");
    b
}

/// Calls `method` on supervisord; the whole exchange (resolving the inet host included) is
/// bounded by `timeout`.
pub async fn call(
    endpoint: &Endpoint,
    resolve: &ResolveConfig,
    auth: Option<&(String, Secret)>,
    method: &str,
    params: &[Param<'_>],
    timeout: Duration,
) -> Result<Value, Error> {
    let body = request_body(method, params);
    let url = Url::parse("http://localhost/RPC2").expect("a constant URL");
    let mut request =
        Request::post(&url, body.as_bytes()).header("Content-Type", "text/xml").header("Connection", "close");
    if let Some((user, pass)) = auth {
        request = request.header("Authorization", auth::basic(user, pass.expose()).expose());
    }
    let limits = Limits { head: http::MAX_HEAD, body: MAX_RESPONSE };
    let exchange = async {
        let response = match endpoint {
            Endpoint::Unix(path) => {
                let s = tokio::net::UnixStream::connect(path).await.map_err(Error::Socket)?;
                http::Connection::new(s).send(&request, limits, timeout).await
            }
            Endpoint::Tcp(addr) => {
                let (host, port) = connect::split_host_port(addr, 80);
                let resolved = resolve::resolve(resolve, &host, port).await.map_err(Error::Resolve)?;
                let s = connect::first_of(&resolved.socket_addrs(), timeout).await.map_err(Error::Connect)?;
                http::Connection::new(s).send(&request, limits, timeout).await
            }
        };
        response.map_err(Error::from).and_then(body_of)
    };
    let body = tokio::time::timeout(timeout, exchange).await.map_err(|_| Error::Timeout)??;
    parse_response(&body)
}

impl From<HttpError> for Error {
    fn from(e: HttpError) -> Self {
        match e {
            HttpError::Timeout { .. } => Error::Timeout,
            other => Error::Transport(other),
        }
    }
}

/// The body of an HTTP answer to a call: status 200, whole, UTF-8.
fn body_of(r: Response) -> Result<String, Error> {
    match r.status {
        200 => {}
        401 => return Err(Error::Unauthorized),
        code => return Err(Error::Http(code)),
    }
    if r.truncated {
        return Err(Protocol::TooLong(MAX_RESPONSE).into());
    }
    if r.cut_short {
        return Err(Protocol::CutShort.into());
    }
    String::from_utf8(r.body).map_err(|_| Protocol::NotUtf8.into())
}

/// The body of a whole HTTP answer given as bytes (for tests and fuzzing): the same reader as
/// the calls use.
pub fn parse_http(raw: &[u8]) -> Result<String, Error> {
    body_of(http::parse(raw, Limits { head: http::MAX_HEAD, body: MAX_RESPONSE })?)
}

/// An XML element: name, children and text.
#[derive(Debug, Default)]
struct Node {
    name: String,
    children: Vec<Node>,
    text: String,
}

fn decode_entities(s: &str) -> Result<String, Error> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let end = after.find(';').filter(|e| *e <= 10).ok_or(Xml::BadEntity)?;
        let ent = &after[..end];
        let ch = match ent {
            "lt" => '<',
            "gt" => '>',
            "amp" => '&',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let code = if let Some(h) = ent.strip_prefix("#x").or_else(|| ent.strip_prefix("#X")) {
                    u32::from_str_radix(h, 16).ok()
                } else {
                    ent.strip_prefix('#').and_then(|d| d.parse().ok())
                };
                code.and_then(char::from_u32).ok_or_else(|| Xml::UnknownEntity(clip(ent)))?
            }
        };
        out.push(ch);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Parses an XML document into a tree (elements and text; attributes ignored).
fn parse_xml(doc: &str) -> Result<Node, Error> {
    let mut stack: Vec<Node> = vec![Node::default()];
    let mut rest = doc;
    while !rest.is_empty() {
        match rest.find('<') {
            None => {
                if !rest.trim().is_empty() {
                    return Err(Xml::TextOutside.into());
                }
                break;
            }
            Some(i) => {
                let text = &rest[..i];
                if !text.is_empty() {
                    let top = stack.last_mut().ok_or(Xml::Unbalanced)?;
                    top.text.push_str(&decode_entities(text)?);
                }
                rest = &rest[i..];
            }
        }
        if let Some(r) = rest.strip_prefix("<?") {
            rest = &r[r.find("?>").ok_or(Xml::UnterminatedDeclaration)? + 2..];
        } else if let Some(r) = rest.strip_prefix("<!--") {
            rest = &r[r.find("-->").ok_or(Xml::UnterminatedComment)? + 3..];
        } else if let Some(r) = rest.strip_prefix("<![CDATA[") {
            let end = r.find("]]>").ok_or(Xml::UnterminatedCdata)?;
            stack.last_mut().ok_or(Xml::Unbalanced)?.text.push_str(&r[..end]);
            rest = &r[end + 3..];
        } else if let Some(r) = rest.strip_prefix("<!") {
            rest = &r[r.find('>').ok_or(Xml::UnterminatedDeclaration)? + 1..];
        } else if let Some(r) = rest.strip_prefix("</") {
            let end = r.find('>').ok_or(Xml::UnterminatedTag)?;
            let name = r[..end].trim();
            let node = stack.pop().ok_or(Xml::Unbalanced)?;
            if node.name != name || stack.is_empty() {
                return Err(Xml::Mismatched { close: clip(name), open: clip(&node.name) }.into());
            }
            stack.last_mut().ok_or(Xml::Unbalanced)?.children.push(node);
            rest = &r[end + 1..];
        } else {
            let r = &rest[1..];
            let end = r.find('>').ok_or(Xml::UnterminatedTag)?;
            let inner = &r[..end];
            let self_closing = inner.ends_with('/');
            let inner = inner.trim_end_matches('/');
            let name = inner.split_whitespace().next().unwrap_or("");
            if name.is_empty() || !name.chars().all(|c| c.is_alphanumeric() || "_-.:".contains(c)) {
                return Err(Xml::BadTagName.into());
            }
            let node = Node { name: name.to_string(), ..Default::default() };
            if self_closing {
                stack.last_mut().ok_or(Xml::Unbalanced)?.children.push(node);
            } else {
                if stack.len() > MAX_DEPTH {
                    return Err(Xml::TooDeep(MAX_DEPTH).into());
                }
                stack.push(node);
            }
            rest = &r[end + 1..];
        }
    }
    if stack.len() != 1 {
        return Err(Xml::EndsInside.into());
    }
    let mut root = stack.pop().ok_or(Xml::NotOneRoot)?;
    if root.children.len() != 1 {
        return Err(Xml::NotOneRoot.into());
    }
    root.children.pop().ok_or(Xml::NotOneRoot.into())
}

fn child<'a>(n: &'a Node, name: &str) -> Option<&'a Node> {
    n.children.iter().find(|c| c.name == name)
}

fn value_of(v: &Node) -> Result<Value, Error> {
    let Some(t) = v.children.first() else { return Ok(Value::Str(v.text.clone())) };
    let text = t.text.trim();
    Ok(match t.name.as_str() {
        "int" | "i4" | "i8" => Value::Int(text.parse().map_err(|_| Protocol::Int(format!("{:?}", clip(text))))?),
        "boolean" => Value::Bool(match text {
            "1" => true,
            "0" => false,
            _ => return Err(Protocol::Boolean(format!("{:?}", clip(text))).into()),
        }),
        "string" => Value::Str(t.text.clone()),
        "double" => Value::Double(text.parse().map_err(|_| Protocol::Double(format!("{:?}", clip(text))))?),
        "nil" => Value::Nil,
        "base64" | "dateTime.iso8601" => Value::Str(text.to_string()),
        "array" => {
            let data = child(t, "data").ok_or(Protocol::ArrayWithoutData)?;
            Value::Array(data.children.iter().filter(|c| c.name == "value").map(value_of).collect::<Result<_, _>>()?)
        }
        "struct" => {
            let mut m = BTreeMap::new();
            for member in t.children.iter().filter(|c| c.name == "member") {
                let name = child(member, "name").ok_or(Protocol::MemberWithoutName)?;
                let val = child(member, "value").ok_or(Protocol::MemberWithoutValue)?;
                m.insert(name.text.clone(), value_of(val)?);
            }
            Value::Struct(m)
        }
        other => return Err(Protocol::UnknownType(clip(other)).into()),
    })
}

/// Parses a `methodResponse`: its value, or its fault as an error.
pub fn parse_response(body: &str) -> Result<Value, Error> {
    let root = parse_xml(body)?;
    if root.name != "methodResponse" {
        return Err(Protocol::NotResponse(clip(&root.name)).into());
    }
    if let Some(fault) = child(&root, "fault") {
        let v = child(fault, "value").map(value_of).transpose()?.unwrap_or(Value::Nil);
        let code = v.get("faultCode").and_then(Value::as_i64).unwrap_or(0);
        let text = v.get("faultString").and_then(Value::as_str).unwrap_or("").to_string();
        return Err(Error::Fault(code, text));
    }
    let value = child(&root, "params")
        .and_then(|p| child(p, "param"))
        .and_then(|p| child(p, "value"))
        .ok_or(Protocol::NoValue)?;
    value_of(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_responses_and_faults() {
        let ok = r#"<?xml version='1.0'?>
<methodResponse><params><param><value><array><data>
<value><struct>
<member><name>name</name><value><string>pen &amp; co</string></value></member>
<member><name>state</name><value><int>20</int></value></member>
<member><name>plain</name><value>text</value></member>
<member><name>flag</name><value><boolean>1</boolean></value></member>
</struct></value>
</data></array></value></param></params></methodResponse>"#;
        let v = parse_response(ok).unwrap();
        let Value::Array(items) = v else { panic!() };
        assert_eq!(items[0].get("name").and_then(Value::as_str), Some("pen & co"));
        assert_eq!(items[0].get("state").and_then(Value::as_i64), Some(20));
        assert_eq!(items[0].get("plain").and_then(Value::as_str), Some("text"));
        let fault = "<methodResponse><fault><value><struct><member><name>faultCode</name><value><int>10</int></value></member><member><name>faultString</name><value><string>BAD_NAME: x</string></value></member></struct></value></fault></methodResponse>";
        assert!(matches!(parse_response(fault), Err(Error::Fault(10, t)) if t == "BAD_NAME: x"));
        assert!(parse_response("<methodResponse><params>").is_err());
        assert!(parse_response("\u{0}\u{1}garbage").is_err());
        assert!(parse_response(&"<a>".repeat(200)).is_err());
        assert!(matches!(
            parse_response("<html><body>hi</body></html>"),
            Err(Error::Protocol(Protocol::NotResponse(root))) if root == "html"
        ));
        // The peer's names in a message: printable and clipped.
        let long = format!("<a></b\u{1}{}>", "x".repeat(100));
        let Err(Error::Protocol(Protocol::Xml(Xml::Mismatched { close, open }))) = parse_response(&long) else {
            panic!("{long}")
        };
        assert_eq!((close.chars().count(), close.starts_with("b?"), open.as_str()), (40, true, "a"));
    }

    #[test]
    fn http_framing() {
        let raw = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloEXTRA";
        assert_eq!(parse_http(raw).unwrap(), "hello");
        let raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhel\r\n2\r\nlo\r\n0\r\n\r\n";
        assert_eq!(parse_http(raw).unwrap(), "hello");
        assert!(matches!(parse_http(b"HTTP/1.0 401 Unauthorized\r\n\r\n"), Err(Error::Unauthorized)));
        let huge = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\nx";
        assert!(parse_http(huge).is_err());
        assert!(parse_http(b"\xff\xfe garbage").is_err());
        assert!(matches!(
            parse_http(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nshort"),
            Err(Error::Protocol(Protocol::CutShort))
        ));
        assert_eq!(connect::split_host_port("supervisord.test:9001", 80), ("supervisord.test".into(), 9001));
        assert_eq!(connect::split_host_port("[::1]:9001", 80), ("::1".into(), 9001));
        assert_eq!(connect::split_host_port("localhost", 80), ("localhost".into(), 80));
        assert_eq!(Endpoint::parse("unix:///run/supervisor.sock"), Some(Endpoint::Unix("/run/supervisor.sock".into())));
        assert_eq!(Endpoint::parse("http://127.0.0.1:9001"), Some(Endpoint::Tcp("127.0.0.1:9001".into())));
    }
}
