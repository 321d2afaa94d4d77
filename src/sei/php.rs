//! Static reader of the PHP configuration files of SEI and its modules: finds the configuration
//! array and `define()`d constants without ever running PHP.
//!
//! Self-contained (std only). It reads what real installations write — `array(...)` and `[...]`,
//! both quote styles, heredocs, concatenation, constants, `getenv()` calls, `?:`/`??`, casts,
//! comments, ISO-8859-1 — and keeps what it cannot know (constants, calls) by name instead of
//! guessing. Anything else is a [`PhpError`] with the 1-based line. Error messages never quote
//! the source: a line of a configuration file may hold a password.

use std::collections::{HashMap, VecDeque};
use std::fmt::{self, Write as _};

/// Deepest nesting of arrays, parentheses and unary operators accepted.
pub const MAX_DEPTH: usize = 64;

/// A PHP value as written in the file.
#[derive(Clone, Debug, PartialEq)]
pub enum PhpValue {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    /// Entries in source order; a repeated key keeps its first position and its last value.
    Array(Vec<(PhpKey, PhpValue)>),
    /// A constant the reader cannot know, kept by name: `SEI_VERSAO`, `InfraConfiguracao::X`,
    /// `Classe::$propriedade`, `__DIR__`, `PHP_EOL`.
    Const(String),
    /// `a . b . c` where some part is not known statically (constants, calls); known parts are
    /// already joined into `Str`.
    Concat(Vec<PhpValue>),
    /// A function or static method call, such as `getenv('CERTIFICADO')` or `dirname(__FILE__)`.
    Call(String, Vec<PhpValue>),
    /// `value ?: default` (`elvis`) or `value ?? default`, when `value` is not known statically.
    Fallback {
        value: Box<PhpValue>,
        default: Box<PhpValue>,
        elvis: bool,
    },
    /// Any other expression (comparison, ternary, variable…), kept as normalized source text.
    Expr(String),
}

/// An array key. Decimal integer strings are integer keys, as in PHP (`'1'` is `1`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum PhpKey {
    Int(i64),
    Str(String),
}

/// Why a file could not be read; `line` is 1-based.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PhpError {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for PhpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for PhpError {}

fn err<T>(line: usize, message: impl Into<String>) -> Result<T, PhpError> {
    Err(PhpError { line, message: message.into() })
}

/// Decodes bytes as UTF-8 (without a BOM), or ISO-8859-1 when not valid UTF-8.
pub fn decode(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.strip_prefix('\u{feff}').unwrap_or(s).to_string(),
        Err(_) => bytes.iter().map(|&b| char::from(b)).collect(),
    }
}

/// Finds the configuration array in a file: the array returned by `getArrConfiguracoes()` in a
/// class (`class ConfiguracaoSEI extends InfraConfiguracao { … }`), or a top-level
/// `return array(...)`, or a top-level `$x = array(...)`.
pub fn parse_config(source: &str) -> Result<PhpValue, PhpError> {
    if let Some(i) = source.find('\0') {
        return err(line_at(source, i), "binary content (NUL byte): not a PHP source file");
    }
    let mut p = Parser::new(source);
    let mut depth = 0usize;
    let mut at_start = true;
    let mut assigned: HashMap<String, PhpValue> = HashMap::new();
    let mut first_assigned: Option<String> = None;
    loop {
        let t = p.next()?;
        let starts_statement = at_start;
        at_start = false;
        match &t.tok {
            Tok::Eof => break,
            Tok::Ident(w) if w.eq_ignore_ascii_case("function") => {
                if p.peek_is_punct(0, "&")? {
                    p.next()?;
                }
                if let Tok::Ident(name) = &p.peek(0)?.tok {
                    if name.eq_ignore_ascii_case("getArrConfiguracoes") {
                        p.next()?;
                        return p.config_method();
                    }
                }
            }
            Tok::Punct("{") => {
                depth += 1;
                at_start = true;
            }
            Tok::Punct("}") => {
                depth = depth.saturating_sub(1);
                at_start = true;
            }
            Tok::Punct(";") | Tok::OpenTag | Tok::CloseTag => at_start = true,
            Tok::Ident(w) if depth == 0 && w.eq_ignore_ascii_case("return") => {
                return p.returned_array(&assigned, t.line);
            }
            Tok::Var(name) if depth == 0 && starts_statement && p.peek_is_punct(0, "=")? => {
                let name = name.clone();
                p.next()?;
                if p.peek_starts_array()? {
                    let value = p.parse_expr()?;
                    first_assigned.get_or_insert_with(|| name.clone());
                    assigned.insert(name, value);
                }
            }
            _ => {}
        }
    }
    if !p.lex.opened {
        return err(1, "no `<?php` opening tag: not a PHP source file");
    }
    if let Some(value) = first_assigned.and_then(|name| assigned.remove(&name)) {
        return Ok(value);
    }
    err(
        1,
        "no configuration array found (expected a getArrConfiguracoes() method, \
         `return array(...)` or `$variable = array(...)`)",
    )
}

/// Finds `define("NAME", "value")`, `define('NAME','value')` or `const NAME = 'value'` anywhere
/// in the file and returns the value as text. A value that is another constant is followed
/// (`const VERSAO_MODULO = VERSAO_MODULO_PEN;`).
pub fn find_define(source: &str, name: &str) -> Option<String> {
    find_define_depth(source, name, 0)
}

fn find_define_depth(source: &str, name: &str, hops: usize) -> Option<String> {
    if hops > 8 || source.contains('\0') {
        return None;
    }
    let mut p = Parser::new(source);
    let mut prev_is_member = false;
    loop {
        let t = p.next().ok()?;
        let member = prev_is_member;
        prev_is_member = matches!(t.tok, Tok::Punct("->") | Tok::Punct("?->") | Tok::Punct("::"));
        let found = match &t.tok {
            Tok::Eof => return None,
            Tok::Ident(w) if !member && w.trim_start_matches('\\').eq_ignore_ascii_case("define") => {
                p.define_call(name).ok()?
            }
            Tok::Ident(w) if !member && w.eq_ignore_ascii_case("const") => p.const_decl(name).ok()?,
            _ => None,
        };
        if let Some(value) = found {
            return match value {
                PhpValue::Const(other) if other != name => find_define_depth(source, &other, hops + 1),
                other => other.scalar_text(),
            };
        }
    }
}

/// 1-based line of byte offset `pos`.
fn line_at(source: &str, pos: usize) -> usize {
    source.as_bytes()[..pos.min(source.len())].iter().filter(|&&b| b == b'\n').count() + 1
}

// ---------------------------------------------------------------------------------------------
// Values

impl PhpKey {
    /// The key PHP would use for this string: canonical decimal integers become `Int`.
    pub fn from_text(s: &str) -> PhpKey {
        let digits = s.strip_prefix('-').unwrap_or(s);
        let canonical = !digits.is_empty()
            && digits.bytes().all(|b| b.is_ascii_digit())
            && (digits == "0" || !digits.starts_with('0'))
            && s != "-0";
        if canonical {
            if let Ok(i) = s.parse::<i64>() {
                return PhpKey::Int(i);
            }
        }
        PhpKey::Str(s.to_string())
    }
}

impl fmt::Display for PhpKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PhpKey::Int(i) => write!(f, "{i}"),
            PhpKey::Str(s) => f.write_str(s),
        }
    }
}

impl PhpValue {
    /// The value under `key` of an array (`None` for other values).
    pub fn get(&self, key: &str) -> Option<&PhpValue> {
        let PhpValue::Array(entries) = self else { return None };
        let wanted = PhpKey::from_text(key);
        entries.iter().find(|(k, _)| *k == wanted).map(|(_, v)| v)
    }

    /// Follows a path of keys: `get_path(&["PEN", "Gearman", "Servidor"])`.
    pub fn get_path(&self, path: &[&str]) -> Option<&PhpValue> {
        path.iter().try_fold(self, |v, k| v.get(k))
    }

    /// The string, for a string value.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            PhpValue::Str(s) => Some(s),
            _ => None,
        }
    }

    /// PHP truthiness, when known: `false`, `0`, `0.0`, `""`, `"0"`, `null` and `[]` are false.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            PhpValue::Null => Some(false),
            PhpValue::Bool(b) => Some(*b),
            PhpValue::Int(i) => Some(*i != 0),
            PhpValue::Float(f) => Some(*f != 0.0),
            PhpValue::Str(s) => Some(!(s.is_empty() || s == "0")),
            PhpValue::Array(a) => Some(!a.is_empty()),
            _ => None,
        }
    }

    /// An integer, from an int, an integral float or a numeric string (`'3306'`).
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            PhpValue::Int(i) => Some(*i),
            PhpValue::Float(f) if f.fract() == 0.0 && f.abs() < 9.2e18 => Some(*f as i64),
            PhpValue::Str(s) => {
                let t = s.trim();
                t.parse::<i64>().ok().or_else(|| {
                    let f = t.parse::<f64>().ok()?;
                    (f.is_finite() && f.fract() == 0.0 && f.abs() < 9.2e18).then_some(f as i64)
                })
            }
            _ => None,
        }
    }

    /// The keys of an array, as text, in source order (empty for other values).
    pub fn keys(&self) -> Vec<String> {
        self.entries().iter().map(|(k, _)| k.to_string()).collect()
    }

    /// The entries of an array (empty for other values).
    pub fn entries(&self) -> &[(PhpKey, PhpValue)] {
        match self {
            PhpValue::Array(entries) => entries,
            _ => &[],
        }
    }

    pub fn is_array(&self) -> bool {
        matches!(self, PhpValue::Array(_))
    }

    /// Whether the value is known statically (no constant, call or expression left inside).
    pub fn is_known(&self) -> bool {
        match self {
            PhpValue::Null | PhpValue::Bool(_) | PhpValue::Int(_) | PhpValue::Float(_) | PhpValue::Str(_) => true,
            PhpValue::Array(entries) => entries.iter().all(|(_, v)| v.is_known()),
            _ => false,
        }
    }

    /// A short name of the value's kind, for messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            PhpValue::Null => "null",
            PhpValue::Bool(_) => "bool",
            PhpValue::Int(_) => "int",
            PhpValue::Float(_) => "float",
            PhpValue::Str(_) => "string",
            PhpValue::Array(_) => "array",
            PhpValue::Const(_) => "constant",
            PhpValue::Concat(_) => "concatenation",
            PhpValue::Call(..) => "function call",
            PhpValue::Fallback { .. } => "fallback expression",
            PhpValue::Expr(_) => "expression",
        }
    }

    /// The value as PHP converts a scalar to a string (`true` → `"1"`, `null` → `""`);
    /// `None` for arrays and values not known statically.
    pub fn scalar_text(&self) -> Option<String> {
        match self {
            PhpValue::Null | PhpValue::Bool(false) => Some(String::new()),
            PhpValue::Bool(true) => Some("1".into()),
            PhpValue::Int(i) => Some(i.to_string()),
            PhpValue::Float(f) => Some(float_text(*f)),
            PhpValue::Str(s) => Some(s.clone()),
            _ => None,
        }
    }

    /// Evaluates what can be evaluated. `lookup` is asked about each `Const` and `Call` (its
    /// arguments already resolved) and returns its value when it knows it; concatenations and
    /// fallbacks whose parts become known are folded as PHP would. What `lookup` returns is
    /// used as is.
    pub fn resolve(&self, lookup: &dyn Fn(&PhpValue) -> Option<PhpValue>) -> PhpValue {
        match self {
            PhpValue::Array(entries) => {
                PhpValue::Array(entries.iter().map(|(k, v)| (k.clone(), v.resolve(lookup))).collect())
            }
            PhpValue::Const(_) => lookup(self).unwrap_or_else(|| self.clone()),
            PhpValue::Call(name, args) => {
                let call = PhpValue::Call(name.clone(), args.iter().map(|a| a.resolve(lookup)).collect());
                lookup(&call).unwrap_or(call)
            }
            PhpValue::Concat(parts) => {
                let mut out = Vec::new();
                for part in parts {
                    push_concat_part(&mut out, part.resolve(lookup));
                }
                finish_concat(out)
            }
            PhpValue::Fallback { value, default, elvis } => {
                let value = value.resolve(lookup);
                let keep = if *elvis { value.as_bool() } else { value.is_known().then(|| value != PhpValue::Null) };
                match keep {
                    Some(true) => value,
                    Some(false) => default.resolve(lookup),
                    None => PhpValue::Fallback {
                        value: Box::new(value),
                        default: Box::new(default.resolve(lookup)),
                        elvis: *elvis,
                    },
                }
            }
            other => other.clone(),
        }
    }
}

/// A float as PHP prints it in a string context (close enough for configuration values).
fn float_text(f: f64) -> String {
    if f.is_nan() {
        "NAN".into()
    } else if f.is_infinite() {
        if f > 0.0 {
            "INF".into()
        } else {
            "-INF".into()
        }
    } else if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}

fn write_quoted(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    f.write_char('\'')?;
    for c in s.chars() {
        if c == '\'' || c == '\\' {
            f.write_char('\\')?;
        }
        f.write_char(c)?;
    }
    f.write_char('\'')
}

/// PHP-like source text of the value (strings single-quoted). Careful: it shows every string,
/// so never display a value that may hold a password.
impl fmt::Display for PhpValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PhpValue::Null => f.write_str("null"),
            PhpValue::Bool(b) => write!(f, "{b}"),
            PhpValue::Int(i) => write!(f, "{i}"),
            PhpValue::Float(x) if x.is_finite() && x.fract() == 0.0 && x.abs() < 1e15 => write!(f, "{x:.1}"),
            PhpValue::Float(x) => f.write_str(&float_text(*x)),
            PhpValue::Str(s) => write_quoted(f, s),
            PhpValue::Array(entries) => {
                f.write_str("array(")?;
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    match k {
                        PhpKey::Int(n) => write!(f, "{n}")?,
                        PhpKey::Str(s) => write_quoted(f, s)?,
                    }
                    write!(f, " => {v}")?;
                }
                f.write_str(")")
            }
            PhpValue::Const(name) => f.write_str(name),
            PhpValue::Concat(parts) => {
                for (i, p) in parts.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" . ")?;
                    }
                    write!(f, "{p}")?;
                }
                Ok(())
            }
            PhpValue::Call(name, args) => {
                write!(f, "{name}(")?;
                for (i, a) in args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{a}")?;
                }
                f.write_str(")")
            }
            PhpValue::Fallback { value, default, elvis } => {
                write!(f, "{value} {} {default}", if *elvis { "?:" } else { "??" })
            }
            PhpValue::Expr(text) => f.write_str(text),
        }
    }
}

fn push_concat_part(parts: &mut Vec<PhpValue>, v: PhpValue) {
    let text = match v {
        PhpValue::Str(s) => s,
        PhpValue::Concat(inner) => {
            for p in inner {
                push_concat_part(parts, p);
            }
            return;
        }
        other => match other.scalar_text() {
            Some(t) => t,
            None => {
                parts.push(other);
                return;
            }
        },
    };
    if let Some(PhpValue::Str(last)) = parts.last_mut() {
        last.push_str(&text);
    } else {
        parts.push(PhpValue::Str(text));
    }
}

fn finish_concat(mut parts: Vec<PhpValue>) -> PhpValue {
    match parts.len() {
        0 => PhpValue::Str(String::new()),
        1 if matches!(parts[0], PhpValue::Str(_)) => parts.remove(0),
        _ => PhpValue::Concat(parts),
    }
}

// ---------------------------------------------------------------------------------------------
// Lexer

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Ident(String),
    Var(String),
    Int(i64),
    Float(f64),
    Str(String),
    Punct(&'static str),
    OpenTag,
    CloseTag,
    Eof,
}

impl Tok {
    /// What the token is, without its text (which may be a secret).
    fn describe(&self) -> String {
        match self {
            Tok::Ident(_) => "an identifier".into(),
            Tok::Var(_) => "a variable".into(),
            Tok::Int(_) | Tok::Float(_) => "a number".into(),
            Tok::Str(_) => "a string".into(),
            Tok::Punct(p) => format!("`{p}`"),
            Tok::OpenTag => "`<?php`".into(),
            Tok::CloseTag => "`?>`".into(),
            Tok::Eof => "the end of the file".into(),
        }
    }
}

#[derive(Clone, Debug)]
struct Token {
    tok: Tok,
    line: usize,
}

/// Operators and punctuation, longest first so that the first match is the longest.
const PUNCTS: &[&str] = &[
    "<<=", ">>=", "**=", "...", "<=>", "===", "!==", "??=", "?->", "=>", "::", "??", "->", "==", "!=", "<>", "<=",
    ">=", "&&", "||", "++", "--", ".=", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "<<", ">>", "**", "(", ")",
    "{", "}", "[", "]", ",", ";", "=", ".", "+", "-", "*", "/", "%", "!", "?", ":", "<", ">", "&", "|", "^", "~", "@",
    "$", "\\",
];

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b >= 0x80
}

fn is_ident_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

struct Lexer<'a> {
    s: &'a str,
    b: &'a [u8],
    pos: usize,
    line: usize,
    in_php: bool,
    /// Whether a PHP opening tag was seen.
    opened: bool,
    eof_line: usize,
}

impl<'a> Lexer<'a> {
    fn new(s: &'a str) -> Self {
        let b = s.as_bytes();
        // The end of the file is reported on its last line that is not blank.
        let eof_line = s.trim_end().bytes().filter(|&c| c == b'\n').count() + 1;
        Lexer { s, b, pos: 0, line: 1, in_php: false, opened: false, eof_line }
    }

    /// Moves to `to`, counting the newlines passed.
    fn advance_to(&mut self, to: usize) {
        let to = to.min(self.b.len());
        self.line += self.b[self.pos..to].iter().filter(|&&c| c == b'\n').count();
        self.pos = to;
    }

    fn at(&self, i: usize) -> u8 {
        self.b.get(i).copied().unwrap_or(0)
    }

    fn starts_with(&self, i: usize, pat: &str) -> bool {
        self.b.get(i..i + pat.len()).is_some_and(|w| w == pat.as_bytes())
    }

    fn next_token(&mut self) -> Result<Token, PhpError> {
        loop {
            if !self.in_php {
                let rest = &self.s[self.pos..];
                let Some(i) = rest.find("<?") else {
                    self.advance_to(self.b.len());
                    return Ok(Token { tok: Tok::Eof, line: self.eof_line });
                };
                let start = self.pos + i;
                self.advance_to(start);
                let line = self.line;
                let len = if self.b.get(start + 2..start + 5).is_some_and(|w| w.eq_ignore_ascii_case(b"php"))
                    && !is_ident_char(self.at(start + 5))
                {
                    5
                } else if self.at(start + 2) == b'=' {
                    3
                } else {
                    2
                };
                self.advance_to(start + len);
                self.in_php = true;
                self.opened = true;
                return Ok(Token { tok: Tok::OpenTag, line });
            }
            // Whitespace and comments.
            let c = self.at(self.pos);
            if self.pos >= self.b.len() {
                return Ok(Token { tok: Tok::Eof, line: self.eof_line });
            }
            if matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c) {
                self.advance_to(self.pos + 1);
                continue;
            }
            if c == b'#' || (c == b'/' && self.at(self.pos + 1) == b'/') {
                self.line_comment();
                continue;
            }
            if c == b'/' && self.at(self.pos + 1) == b'*' {
                let start_line = self.line;
                match self.s[self.pos + 2..].find("*/") {
                    Some(i) => self.advance_to(self.pos + 2 + i + 2),
                    None => return err(start_line, "unterminated `/*` comment"),
                }
                continue;
            }
            let line = self.line;
            let tok = self.token(c, line)?;
            return Ok(Token { tok, line });
        }
    }

    /// `//` or `#` comment: to the end of the line, or to `?>`, as PHP does.
    fn line_comment(&mut self) {
        let mut i = self.pos;
        while i < self.b.len() {
            match self.b[i] {
                b'\n' => break,
                b'?' if self.at(i + 1) == b'>' => break,
                _ => i += 1,
            }
        }
        self.advance_to(i);
    }

    fn token(&mut self, c: u8, line: usize) -> Result<Tok, PhpError> {
        match c {
            b'?' if self.at(self.pos + 1) == b'>' => {
                self.advance_to(self.pos + 2);
                // A newline right after `?>` belongs to the tag.
                if self.at(self.pos) == b'\n' {
                    self.advance_to(self.pos + 1);
                } else if self.starts_with(self.pos, "\r\n") {
                    self.advance_to(self.pos + 2);
                }
                self.in_php = false;
                Ok(Tok::CloseTag)
            }
            b'\'' => self.single_quoted(line),
            b'"' | b'`' => self.double_quoted(c, line),
            b'$' if is_ident_start(self.at(self.pos + 1)) => {
                let end = self.ident_end(self.pos + 1);
                let name = self.s[self.pos + 1..end].to_string();
                self.advance_to(end);
                Ok(Tok::Var(name))
            }
            b'0'..=b'9' => self.number(line),
            b'.' if self.at(self.pos + 1).is_ascii_digit() => self.number(line),
            _ if is_ident_start(c) || (c == b'\\' && is_ident_start(self.at(self.pos + 1))) => {
                let end = self.ident_end(self.pos);
                let word = self.s[self.pos..end].to_string();
                self.advance_to(end);
                Ok(Tok::Ident(word))
            }
            b'<' if self.starts_with(self.pos, "<<<") => match self.heredoc(line)? {
                Some(s) => Ok(Tok::Str(s)),
                None => {
                    self.advance_to(self.pos + 2);
                    Ok(Tok::Punct("<<"))
                }
            },
            _ if c < 0x20 || c == 0x7f => err(line, format!("unexpected control character 0x{c:02x} (binary data?)")),
            _ => match PUNCTS.iter().find(|p| self.starts_with(self.pos, p)) {
                Some(p) => {
                    self.advance_to(self.pos + p.len());
                    Ok(Tok::Punct(p))
                }
                None => err(line, format!("unexpected character `{}`", char::from(c))),
            },
        }
    }

    /// End of a (possibly namespaced) identifier starting at `i`.
    fn ident_end(&self, mut i: usize) -> usize {
        loop {
            let c = self.at(i);
            if is_ident_char(c) {
                i += 1;
            } else if c == b'\\' && is_ident_start(self.at(i + 1)) {
                i += 2;
            } else {
                return i;
            }
        }
    }

    fn single_quoted(&mut self, line: usize) -> Result<Tok, PhpError> {
        let mut out = String::new();
        let mut i = self.pos + 1;
        let mut seg = i;
        loop {
            match self.b.get(i) {
                None => return err(line, "unterminated string"),
                Some(b'\\') if matches!(self.at(i + 1), b'\'' | b'\\') => {
                    out.push_str(&self.s[seg..i]);
                    out.push(char::from(self.b[i + 1]));
                    i += 2;
                    seg = i;
                }
                Some(b'\'') => {
                    out.push_str(&self.s[seg..i]);
                    self.advance_to(i + 1);
                    return Ok(Tok::Str(out));
                }
                Some(_) => i += 1,
            }
        }
    }

    fn double_quoted(&mut self, quote: u8, line: usize) -> Result<Tok, PhpError> {
        let start = self.pos + 1;
        let mut i = start;
        loop {
            match self.b.get(i) {
                None => return err(line, "unterminated string"),
                Some(b'\\') => i += 2,
                Some(&c) if c == quote => break,
                Some(b'{') if self.at(i + 1) == b'$' => i = self.skip_interpolation(i, line)?,
                Some(b'$') if self.at(i + 1) == b'{' => i = self.skip_interpolation(i + 1, line)?,
                Some(_) => i += 1,
            }
        }
        let raw = &self.s[start..i];
        self.advance_to(i + 1);
        Ok(Tok::Str(unescape_double(raw, quote)))
    }

    /// Skips `{$expr}` inside a double-quoted string (`i` at the `{`); returns the index after `}`.
    fn skip_interpolation(&self, mut i: usize, line: usize) -> Result<usize, PhpError> {
        let mut depth = 0usize;
        while i < self.b.len() {
            match self.b[i] {
                b'{' => depth += 1,
                b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        return Ok(i + 1);
                    }
                }
                q @ (b'\'' | b'"') => {
                    i += 1;
                    while i < self.b.len() && self.b[i] != q {
                        i += if self.b[i] == b'\\' { 2 } else { 1 };
                    }
                }
                _ => {}
            }
            i += 1;
        }
        err(line, "unterminated string")
    }

    /// `<<<ID`, `<<<"ID"` (heredoc) or `<<<'ID'` (nowdoc). `None` when not a heredoc header.
    fn heredoc(&mut self, line: usize) -> Result<Option<String>, PhpError> {
        let mut i = self.pos + 3;
        while matches!(self.at(i), b' ' | b'\t') {
            i += 1;
        }
        let quote = match self.at(i) {
            q @ (b'\'' | b'"') => {
                i += 1;
                Some(q)
            }
            _ => None,
        };
        if !is_ident_start(self.at(i)) {
            return Ok(None);
        }
        let id_start = i;
        while is_ident_char(self.at(i)) {
            i += 1;
        }
        let id = &self.s[id_start..i];
        if let Some(q) = quote {
            if self.at(i) != q {
                return Ok(None);
            }
            i += 1;
        }
        if self.at(i) == b'\r' {
            i += 1;
        }
        if self.at(i) != b'\n' {
            return Ok(None);
        }
        let body_start = i + 1;
        // Find the closing line: optional indentation, the identifier, then a non-identifier byte.
        let mut line_start = body_start;
        loop {
            if line_start > self.b.len() {
                return err(line, "unterminated heredoc");
            }
            let mut j = line_start;
            while matches!(self.at(j), b' ' | b'\t') {
                j += 1;
            }
            if self.starts_with(j, id) && !is_ident_char(self.at(j + id.len())) {
                let indent = j - line_start;
                let body_end = line_start.saturating_sub(1).max(body_start);
                let mut body = &self.s[body_start..body_end];
                if body.ends_with('\r') {
                    body = &body[..body.len() - 1];
                }
                let mut text = String::with_capacity(body.len());
                for (n, l) in body.split('\n').enumerate() {
                    if n > 0 {
                        text.push('\n');
                    }
                    let strip = l.bytes().take(indent).take_while(|b| matches!(b, b' ' | b'\t')).count();
                    text.push_str(&l[strip..]);
                }
                self.advance_to(j + id.len());
                let value = if quote == Some(b'\'') { text } else { unescape_double(&text, 0) };
                return Ok(Some(value));
            }
            match self.s[line_start..].find('\n') {
                Some(n) => line_start += n + 1,
                None => return err(line, "unterminated heredoc"),
            }
        }
    }

    fn number(&mut self, line: usize) -> Result<Tok, PhpError> {
        let start = self.pos;
        let radix_prefix = |p: u8| self.at(start) == b'0' && self.at(start + 1).eq_ignore_ascii_case(&p);
        let (radix, digits_start) = if radix_prefix(b'x') {
            (16, start + 2)
        } else if radix_prefix(b'b') {
            (2, start + 2)
        } else if radix_prefix(b'o') {
            (8, start + 2)
        } else {
            (10, start)
        };
        let mut i = digits_start;
        if radix != 10 {
            while self.at(i).is_ascii_hexdigit() || self.at(i) == b'_' {
                i += 1;
            }
            let digits: String = self.s[digits_start..i].chars().filter(|&c| c != '_').collect();
            self.advance_to(i);
            return int_token(&digits, radix, line);
        }
        while self.at(i).is_ascii_digit() || self.at(i) == b'_' {
            i += 1;
        }
        let mut float = false;
        if self.at(i) == b'.' && self.at(i + 1) != b'.' {
            float = true;
            i += 1;
            while self.at(i).is_ascii_digit() || self.at(i) == b'_' {
                i += 1;
            }
        }
        if matches!(self.at(i), b'e' | b'E') {
            let mut j = i + 1;
            if matches!(self.at(j), b'+' | b'-') {
                j += 1;
            }
            if self.at(j).is_ascii_digit() {
                float = true;
                i = j;
                while self.at(i).is_ascii_digit() {
                    i += 1;
                }
            }
        }
        let text: String = self.s[start..i].chars().filter(|&c| c != '_').collect();
        self.advance_to(i);
        if float {
            return match text.parse::<f64>() {
                Ok(f) => Ok(Tok::Float(f)),
                Err(_) => err(line, "malformed number"),
            };
        }
        if text.len() > 1 && text.starts_with('0') {
            return int_token(&text[1..], 8, line);
        }
        int_token(&text, 10, line)
    }
}

fn int_token(digits: &str, radix: u32, line: usize) -> Result<Tok, PhpError> {
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return err(line, "malformed number");
    }
    match i64::from_str_radix(digits, radix) {
        Ok(i) => Ok(Tok::Int(i)),
        // PHP turns an integer that does not fit into a float.
        Err(_) if radix == 10 => Ok(Tok::Float(digits.parse::<f64>().unwrap_or(f64::INFINITY))),
        Err(_) => Ok(Tok::Float(
            digits.chars().fold(0.0, |acc, c| acc * f64::from(radix) + f64::from(c.to_digit(radix).unwrap_or(0))),
        )),
    }
}

/// The escapes of a double-quoted string or heredoc; `$var` and `{$…}` stay as text.
fn unescape_double(raw: &str, quote: u8) -> String {
    let b = raw.as_bytes();
    let mut out = String::with_capacity(raw.len());
    let mut seg = 0;
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'\\' || i + 1 >= b.len() {
            i += 1;
            continue;
        }
        out.push_str(&raw[seg..i]);
        let n = b[i + 1];
        let mut next = i + 2;
        match n {
            b'n' => out.push('\n'),
            b't' => out.push('\t'),
            b'r' => out.push('\r'),
            b'v' => out.push('\x0b'),
            b'e' => out.push('\x1b'),
            b'f' => out.push('\x0c'),
            b'\\' | b'$' => out.push(char::from(n)),
            _ if n == quote && quote != 0 => out.push(char::from(n)),
            b'0'..=b'7' => {
                let mut v = 0u32;
                let mut j = i + 1;
                while j < b.len() && j < i + 4 && (b'0'..=b'7').contains(&b[j]) {
                    v = v * 8 + u32::from(b[j] - b'0');
                    j += 1;
                }
                out.push(char::from((v & 0xff) as u8));
                next = j;
            }
            b'x' if i + 2 < b.len() && b[i + 2].is_ascii_hexdigit() => {
                let mut v = 0u32;
                let mut j = i + 2;
                while j < b.len() && j < i + 4 && b[j].is_ascii_hexdigit() {
                    v = v * 16 + char::from(b[j]).to_digit(16).unwrap_or(0);
                    j += 1;
                }
                out.push(char::from(v as u8));
                next = j;
            }
            b'u' if i + 2 < b.len() && b[i + 2] == b'{' => {
                let close = raw[i + 3..].find('}').map(|k| i + 3 + k);
                let c = close.and_then(|k| u32::from_str_radix(&raw[i + 3..k], 16).ok()).and_then(char::from_u32);
                match (c, close) {
                    (Some(c), Some(k)) => {
                        out.push(c);
                        next = k + 1;
                    }
                    _ => {
                        out.push('\\');
                        next = i + 1;
                    }
                }
            }
            _ => {
                // Unknown escape: PHP keeps the backslash.
                out.push('\\');
                next = i + 1;
            }
        }
        i = next;
        seg = next;
    }
    out.push_str(&raw[seg.min(raw.len())..]);
    out
}

// ---------------------------------------------------------------------------------------------
// Parser

struct Parser<'a> {
    lex: Lexer<'a>,
    buf: VecDeque<Token>,
    depth: usize,
}

/// Binary operators: (token, precedence, right-associative). Higher binds tighter.
fn binary_op(tok: &Tok) -> Option<(&'static str, u8, bool)> {
    let op = match tok {
        Tok::Punct(p) => *p,
        _ => return None,
    };
    let (prec, right) = match op {
        "??" => (6, true),
        "||" => (7, false),
        "&&" => (8, false),
        "|" => (9, false),
        "^" => (10, false),
        "&" => (11, false),
        "==" | "!=" | "===" | "!==" | "<>" | "<=>" => (12, false),
        "<" | "<=" | ">" | ">=" => (13, false),
        "." => (14, false),
        "<<" | ">>" => (15, false),
        "+" | "-" => (16, false),
        "*" | "/" | "%" => (17, false),
        "**" => (19, true),
        _ => return None,
    };
    Some((op, prec, right))
}

const CASTS: &[&str] =
    &["int", "integer", "bool", "boolean", "float", "double", "real", "string", "binary", "array", "object", "unset"];

/// Constructs that cannot appear in a static configuration.
const UNSUPPORTED: &[&str] = &[
    "new",
    "function",
    "fn",
    "match",
    "clone",
    "include",
    "include_once",
    "require",
    "require_once",
    "eval",
    "exit",
    "die",
    "throw",
    "yield",
    "print",
    "list",
];

impl<'a> Parser<'a> {
    fn new(source: &'a str) -> Self {
        Parser { lex: Lexer::new(source), buf: VecDeque::new(), depth: 0 }
    }

    fn peek(&mut self, n: usize) -> Result<&Token, PhpError> {
        while self.buf.len() <= n {
            let t = self.lex.next_token()?;
            self.buf.push_back(t);
        }
        Ok(&self.buf[n])
    }

    fn next(&mut self) -> Result<Token, PhpError> {
        match self.buf.pop_front() {
            Some(t) => Ok(t),
            None => self.lex.next_token(),
        }
    }

    fn peek_is_punct(&mut self, n: usize, p: &str) -> Result<bool, PhpError> {
        Ok(matches!(&self.peek(n)?.tok, Tok::Punct(q) if *q == p))
    }

    fn peek_starts_array(&mut self) -> Result<bool, PhpError> {
        Ok(match &self.peek(0)?.tok {
            Tok::Punct("[") => true,
            Tok::Ident(w) if w.eq_ignore_ascii_case("array") => self.peek_is_punct(1, "(")?,
            _ => false,
        })
    }

    fn expect_punct(&mut self, p: &'static str, context: &str) -> Result<Token, PhpError> {
        let t = self.next()?;
        if t.tok == Tok::Punct(p) {
            Ok(t)
        } else {
            err(t.line, format!("expected `{p}` {context}, found {}", t.tok.describe()))
        }
    }

    fn enter(&mut self, line: usize) -> Result<(), PhpError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return err(line, format!("nesting deeper than {MAX_DEPTH} levels"));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    /// After `function getArrConfiguracoes`: the array its body returns.
    fn config_method(&mut self) -> Result<PhpValue, PhpError> {
        // Parameters and return type, up to the body.
        loop {
            let t = self.next()?;
            match t.tok {
                Tok::Punct("{") => break,
                Tok::Punct(";") => return err(t.line, "getArrConfiguracoes() has no body"),
                Tok::Eof => return err(t.line, "unexpected end of file in getArrConfiguracoes()"),
                _ => {}
            }
        }
        let mut depth = 1usize;
        let mut at_start = true;
        let mut assigned: HashMap<String, PhpValue> = HashMap::new();
        loop {
            let t = self.next()?;
            let starts_statement = at_start;
            at_start = false;
            match &t.tok {
                Tok::Eof => return err(t.line, "unexpected end of file in getArrConfiguracoes()"),
                Tok::Punct("{") => {
                    depth += 1;
                    at_start = true;
                }
                Tok::Punct("}") => {
                    depth -= 1;
                    if depth == 0 {
                        return err(t.line, "getArrConfiguracoes() does not return an array");
                    }
                    at_start = true;
                }
                Tok::Punct(";") | Tok::CloseTag | Tok::OpenTag => at_start = true,
                Tok::Ident(w) if w.eq_ignore_ascii_case("return") => {
                    return self.returned_array(&assigned, t.line);
                }
                Tok::Var(name) if starts_statement && self.peek_is_punct(0, "=")? => {
                    let name = name.clone();
                    self.next()?;
                    let value = self.parse_expr()?;
                    assigned.insert(name, value);
                }
                _ => {}
            }
        }
    }

    /// After `return`: the returned array (a literal, or a variable assigned one before).
    fn returned_array(&mut self, assigned: &HashMap<String, PhpValue>, line: usize) -> Result<PhpValue, PhpError> {
        if let Tok::Var(name) = &self.peek(0)?.tok {
            let name = name.clone();
            if matches!(self.peek(1)?.tok, Tok::Punct(";") | Tok::CloseTag | Tok::Eof) {
                return match assigned.get(&name) {
                    Some(v) if v.is_array() => Ok(v.clone()),
                    _ => err(line, "the returned variable is not assigned an array literal"),
                };
            }
        }
        let value = self.parse_expr()?;
        let t = self.next()?;
        if !matches!(t.tok, Tok::Punct(";") | Tok::CloseTag | Tok::Eof) {
            return err(t.line, format!("expected `;` after the returned array, found {}", t.tok.describe()));
        }
        if !value.is_array() {
            return err(line, format!("the configuration returned is a {}, not an array literal", value.type_name()));
        }
        Ok(value)
    }

    /// After `define`: `("NAME", value)` when NAME is `name`.
    fn define_call(&mut self, name: &str) -> Result<Option<PhpValue>, PhpError> {
        if !self.peek_is_punct(0, "(")? {
            return Ok(None);
        }
        let matches = matches!(&self.peek(1)?.tok, Tok::Str(s) if s == name) && self.peek_is_punct(2, ",")?;
        if !matches {
            return Ok(None);
        }
        for _ in 0..3 {
            self.next()?;
        }
        self.parse_expr().map(Some)
    }

    /// After `const`: `[type] NAME = value` when NAME is `name`.
    fn const_decl(&mut self, name: &str) -> Result<Option<PhpValue>, PhpError> {
        let typed = matches!(self.peek(0)?.tok, Tok::Ident(_)) && matches!(self.peek(1)?.tok, Tok::Ident(_));
        let at = usize::from(typed);
        let matches = matches!(&self.peek(at)?.tok, Tok::Ident(n) if n == name) && self.peek_is_punct(at + 1, "=")?;
        if !matches {
            return Ok(None);
        }
        for _ in 0..at + 2 {
            self.next()?;
        }
        self.parse_expr().map(Some)
    }

    fn parse_expr(&mut self) -> Result<PhpValue, PhpError> {
        let line = self.peek(0)?.line;
        self.enter(line)?;
        let v = self.parse_low();
        self.leave();
        v
    }

    /// `and`, `xor`, `or`: the loosest operators.
    fn parse_low(&mut self) -> Result<PhpValue, PhpError> {
        let mut lhs = self.parse_ternary()?;
        loop {
            let op = match &self.peek(0)?.tok {
                Tok::Ident(w) if ["and", "or", "xor"].iter().any(|k| w.eq_ignore_ascii_case(k)) => {
                    w.to_ascii_lowercase()
                }
                _ => return Ok(lhs),
            };
            self.next()?;
            let rhs = self.parse_ternary()?;
            lhs = match (op.as_str(), lhs.as_bool(), rhs.as_bool()) {
                ("and", Some(a), Some(b)) => PhpValue::Bool(a && b),
                ("or", Some(a), Some(b)) => PhpValue::Bool(a || b),
                ("xor", Some(a), Some(b)) => PhpValue::Bool(a ^ b),
                _ => expr_join(lhs, &op, &rhs),
            };
        }
    }

    /// `a ? b : c` (kept as text) and `a ?: b`.
    fn parse_ternary(&mut self) -> Result<PhpValue, PhpError> {
        let mut cond = self.parse_binary(6)?;
        while self.peek_is_punct(0, "?")? {
            let q = self.next()?;
            if self.peek_is_punct(0, ":")? {
                self.next()?;
                let default = self.parse_binary(6)?;
                cond = match cond.as_bool() {
                    Some(true) => cond,
                    Some(false) => default,
                    None => PhpValue::Fallback { value: Box::new(cond), default: Box::new(default), elvis: true },
                };
            } else {
                let then = self.parse_expr()?;
                self.expect_punct(":", &format!("of the `?` at line {}", q.line))?;
                let otherwise = self.parse_binary(6)?;
                cond = match cond.as_bool() {
                    Some(true) => then,
                    Some(false) => otherwise,
                    None => PhpValue::Expr(format!("{cond} ? {then} : {otherwise}")),
                };
            }
        }
        Ok(cond)
    }

    /// Binary operators of precedence `min` and tighter (precedence climbing).
    fn parse_binary(&mut self, min: u8) -> Result<PhpValue, PhpError> {
        let mut lhs = self.parse_unary()?;
        loop {
            let Some((op, prec, right)) = binary_op(&self.peek(0)?.tok) else { return Ok(lhs) };
            if prec < min {
                return Ok(lhs);
            }
            let t = self.next()?;
            self.enter(t.line)?;
            let rhs = self.parse_binary(if right { prec } else { prec + 1 });
            self.leave();
            lhs = combine(op, lhs, rhs?);
        }
    }

    fn parse_unary(&mut self) -> Result<PhpValue, PhpError> {
        let (first, line) = {
            let t = self.peek(0)?;
            (if let Tok::Punct(p) = t.tok { Some(p) } else { None }, t.line)
        };
        let prefix = match first {
            Some(p @ ("-" | "+" | "!" | "~" | "@" | "&")) => {
                self.next()?;
                Prefix::Op(p)
            }
            Some("(") => match self.cast_ahead()? {
                Some(cast) => {
                    for _ in 0..3 {
                        self.next()?;
                    }
                    Prefix::Cast(cast)
                }
                None => return self.parse_postfix(),
            },
            _ => return self.parse_postfix(),
        };
        self.enter(line)?;
        let result = self.parse_prefixed(prefix);
        self.leave();
        result
    }

    /// `( type )` ahead: the cast's type name.
    fn cast_ahead(&mut self) -> Result<Option<String>, PhpError> {
        if !self.peek_is_punct(2, ")")? {
            return Ok(None);
        }
        Ok(match &self.peek(1)?.tok {
            Tok::Ident(w) if CASTS.iter().any(|c| w.eq_ignore_ascii_case(c)) => Some(w.to_ascii_lowercase()),
            _ => None,
        })
    }

    fn parse_prefixed(&mut self, prefix: Prefix) -> Result<PhpValue, PhpError> {
        let operand = self.parse_unary()?;
        let operand = if self.peek_is_punct(0, "**")? {
            // `**` binds tighter than the unary operators.
            let t = self.next()?;
            self.enter(t.line)?;
            let rhs = self.parse_unary();
            self.leave();
            combine("**", operand, rhs?)
        } else {
            operand
        };
        Ok(match prefix {
            Prefix::Op("-") => negate(operand),
            Prefix::Op("+") => match number(&operand) {
                Some(n) => n.value(),
                None => expr_prefix("+", &operand),
            },
            Prefix::Op("!") => match operand.as_bool() {
                Some(b) => PhpValue::Bool(!b),
                None => expr_prefix("!", &operand),
            },
            Prefix::Op("~") => match operand {
                PhpValue::Int(i) => PhpValue::Int(!i),
                other => expr_prefix("~", &other),
            },
            Prefix::Op(_) => operand,
            Prefix::Cast(c) => apply_cast(&c, operand),
        })
    }

    /// A primary followed by subscripts, property accesses and method calls.
    fn parse_postfix(&mut self) -> Result<PhpValue, PhpError> {
        let mut v = self.parse_primary()?;
        loop {
            let p = match self.peek(0)?.tok {
                Tok::Punct(p @ ("[" | "->" | "?->")) => p,
                _ => return Ok(v),
            };
            let open = self.next()?;
            if p == "[" {
                let index = if self.peek_is_punct(0, "]")? { None } else { Some(self.parse_expr()?) };
                self.expect_punct("]", &format!("to close the `[` at line {}", open.line))?;
                v = match (&v, &index) {
                    (PhpValue::Array(_), Some(i)) if i.is_known() => {
                        let key = i.scalar_text().unwrap_or_default();
                        v.get(&key).cloned().unwrap_or(PhpValue::Null)
                    }
                    _ => PhpValue::Expr(format!("{v}[{}]", index.map(|i| i.to_string()).unwrap_or_default())),
                };
            } else {
                let t = self.next()?;
                let Tok::Ident(member) = t.tok else {
                    return err(t.line, format!("expected a property name after `{p}`, found {}", t.tok.describe()));
                };
                let mut text = format!("{v}{p}{member}");
                if self.peek_is_punct(0, "(")? {
                    let args = self.parse_args()?;
                    text = PhpValue::Call(text, args).to_string();
                }
                v = PhpValue::Expr(text);
            }
        }
    }

    fn parse_primary(&mut self) -> Result<PhpValue, PhpError> {
        let t = self.next()?;
        match t.tok {
            Tok::Int(i) => Ok(PhpValue::Int(i)),
            Tok::Float(f) => Ok(PhpValue::Float(f)),
            Tok::Str(s) => Ok(PhpValue::Str(s)),
            Tok::Var(name) => Ok(PhpValue::Expr(format!("${name}"))),
            Tok::Punct("[") => self.parse_array("]", t.line),
            Tok::Punct("(") => {
                let v = self.parse_expr()?;
                self.expect_punct(")", &format!("to close the `(` at line {}", t.line))?;
                Ok(v)
            }
            Tok::Ident(word) => self.parse_name(word, t.line),
            Tok::Eof => err(t.line, "unexpected end of file: a value is missing"),
            other => err(t.line, format!("unexpected {} where a value was expected", other.describe())),
        }
    }

    /// Keywords, constants, class constants and calls.
    fn parse_name(&mut self, word: String, line: usize) -> Result<PhpValue, PhpError> {
        let bare = word.trim_start_matches('\\');
        let lower = bare.to_ascii_lowercase();
        match lower.as_str() {
            "true" => return Ok(PhpValue::Bool(true)),
            "false" => return Ok(PhpValue::Bool(false)),
            "null" => return Ok(PhpValue::Null),
            "array" if self.peek_is_punct(0, "(")? => {
                let open = self.next()?;
                return self.parse_array(")", open.line);
            }
            _ => {}
        }
        if UNSUPPORTED.contains(&lower.as_str()) {
            return err(line, format!("unsupported construct `{lower}` in a configuration value"));
        }
        let mut name = word;
        if self.peek_is_punct(0, "::")? {
            self.next()?;
            let t = self.next()?;
            match t.tok {
                Tok::Ident(member) => name = format!("{name}::{member}"),
                Tok::Var(member) => return Ok(PhpValue::Const(format!("{name}::${member}"))),
                other => {
                    return err(t.line, format!("expected a constant name after `::`, found {}", other.describe()))
                }
            }
        }
        if self.peek_is_punct(0, "(")? {
            let args = self.parse_args()?;
            return Ok(PhpValue::Call(name, args));
        }
        Ok(PhpValue::Const(name))
    }

    /// `(a, b, …)` of a call; named arguments keep only their value.
    fn parse_args(&mut self) -> Result<Vec<PhpValue>, PhpError> {
        let open = self.expect_punct("(", "")?;
        let mut args = Vec::new();
        loop {
            if self.peek_is_punct(0, ")")? {
                self.next()?;
                return Ok(args);
            }
            if matches!(self.peek(0)?.tok, Tok::Ident(_))
                && self.peek_is_punct(1, ":")?
                && !self.peek_is_punct(2, ":")?
            {
                self.next()?;
                self.next()?;
            }
            if self.peek_is_punct(0, "...")? {
                self.next()?;
            }
            args.push(self.parse_expr()?);
            let t = self.next()?;
            match t.tok {
                Tok::Punct(",") => {}
                Tok::Punct(")") => return Ok(args),
                Tok::Eof => {
                    return err(t.line, format!("unexpected end of file: the `(` at line {} is not closed", open.line))
                }
                other => {
                    return err(
                        t.line,
                        format!("expected `,` or `)` in the call at line {}, found {}", open.line, other.describe()),
                    )
                }
            }
        }
    }

    /// The items of `array(...)` or `[...]`, after the opening token.
    /// (Nesting is counted by `parse_expr`, which every element goes through.)
    fn parse_array(&mut self, close: &'static str, open_line: usize) -> Result<PhpValue, PhpError> {
        let mut entries: Vec<(PhpKey, PhpValue)> = Vec::new();
        let mut index: HashMap<PhpKey, usize> = HashMap::new();
        let mut next_int: Option<i64> = None;
        loop {
            if self.peek_is_punct(0, close)? {
                self.next()?;
                return Ok(PhpValue::Array(entries));
            }
            let (at_eof, line) = {
                let t = self.peek(0)?;
                (t.tok == Tok::Eof, t.line)
            };
            if at_eof {
                return err(
                    line,
                    format!("unexpected end of file: the array opened at line {open_line} is not closed"),
                );
            }
            if self.peek_is_punct(0, "...")? {
                let line = self.peek(0)?.line;
                return err(line, "unsupported construct `...` (array unpacking) in a configuration array");
            }
            let first = self.parse_expr()?;
            let (key, value) = if self.peek_is_punct(0, "=>")? {
                let arrow = self.next()?;
                let value = self.parse_expr()?;
                (to_key(first, arrow.line)?, value)
            } else {
                let k = next_int.unwrap_or(0);
                (PhpKey::Int(k), first)
            };
            if let PhpKey::Int(k) = key {
                if next_int.is_none_or(|n| k >= n) {
                    next_int = Some(k.saturating_add(1));
                }
            }
            match index.get(&key) {
                Some(&i) => entries[i].1 = value,
                None => {
                    index.insert(key.clone(), entries.len());
                    entries.push((key, value));
                }
            }
            let t = self.next()?;
            match t.tok {
                Tok::Punct(",") => {}
                Tok::Punct(p) if p == close => return Ok(PhpValue::Array(entries)),
                Tok::Eof => {
                    return err(
                        t.line,
                        format!("unexpected end of file: the array opened at line {open_line} is not closed"),
                    )
                }
                other => {
                    return err(
                        t.line,
                        format!(
                        "expected `,` or `{close}` after an element of the array opened at line {open_line}, found {}",
                        other.describe()
                    ),
                    )
                }
            }
        }
    }
}

/// A unary operator or a cast in front of a value.
enum Prefix {
    Op(&'static str),
    Cast(String),
}

fn to_key(v: PhpValue, line: usize) -> Result<PhpKey, PhpError> {
    Ok(match v {
        PhpValue::Int(i) => PhpKey::Int(i),
        PhpValue::Str(s) => PhpKey::from_text(&s),
        PhpValue::Bool(b) => PhpKey::Int(i64::from(b)),
        PhpValue::Null => PhpKey::Str(String::new()),
        PhpValue::Float(f) if f.is_finite() => PhpKey::Int(f as i64),
        PhpValue::Array(_) => return err(line, "an array cannot be an array key"),
        other => PhpKey::Str(other.to_string()),
    })
}

#[derive(Clone, Copy)]
enum Num {
    I(i64),
    F(f64),
}

impl Num {
    fn value(self) -> PhpValue {
        match self {
            Num::I(i) => PhpValue::Int(i),
            Num::F(f) => PhpValue::Float(f),
        }
    }

    fn f(self) -> f64 {
        match self {
            Num::I(i) => i as f64,
            Num::F(f) => f,
        }
    }
}

fn number(v: &PhpValue) -> Option<Num> {
    match v {
        PhpValue::Int(i) => Some(Num::I(*i)),
        PhpValue::Float(f) => Some(Num::F(*f)),
        PhpValue::Bool(b) => Some(Num::I(i64::from(*b))),
        PhpValue::Null => Some(Num::I(0)),
        PhpValue::Str(s) => {
            let t = s.trim();
            t.parse::<i64>().map(Num::I).ok().or_else(|| t.parse::<f64>().ok().map(Num::F))
        }
        _ => None,
    }
}

fn negate(v: PhpValue) -> PhpValue {
    match number(&v) {
        Some(Num::I(i)) => i.checked_neg().map_or(PhpValue::Float(-(i as f64)), PhpValue::Int),
        Some(Num::F(f)) => PhpValue::Float(-f),
        None => expr_prefix("-", &v),
    }
}

fn expr_prefix(op: &str, v: &PhpValue) -> PhpValue {
    PhpValue::Expr(format!("{op}{v}"))
}

/// `lhs op rhs` as text, appending to `lhs`'s text when it already is an expression (linear).
fn expr_join(lhs: PhpValue, op: &str, rhs: &PhpValue) -> PhpValue {
    let mut text = match lhs {
        PhpValue::Expr(t) => t,
        other => other.to_string(),
    };
    let _ = write!(text, " {op} {rhs}");
    PhpValue::Expr(text)
}

fn apply_cast(cast: &str, v: PhpValue) -> PhpValue {
    let known = v.is_known();
    match cast {
        "int" | "integer" if known => match v {
            PhpValue::Array(a) => PhpValue::Int(i64::from(!a.is_empty())),
            PhpValue::Str(ref s) => PhpValue::Int(leading_int(s)),
            other => match number(&other) {
                Some(Num::I(i)) => PhpValue::Int(i),
                Some(Num::F(f)) if f.is_finite() => PhpValue::Int(f as i64),
                _ => PhpValue::Int(0),
            },
        },
        "bool" | "boolean" if known => PhpValue::Bool(v.as_bool().unwrap_or(false)),
        "float" | "double" | "real" if known => match number(&v) {
            Some(n) => PhpValue::Float(n.f()),
            None => PhpValue::Float(0.0),
        },
        "string" | "binary" if known && !v.is_array() => PhpValue::Str(v.scalar_text().unwrap_or_default()),
        "array" if known => match v {
            PhpValue::Array(_) => v,
            PhpValue::Null => PhpValue::Array(Vec::new()),
            other => PhpValue::Array(vec![(PhpKey::Int(0), other)]),
        },
        _ => PhpValue::Expr(format!("({cast}){v}")),
    }
}

/// The integer at the start of a string, as `(int)` reads it.
fn leading_int(s: &str) -> i64 {
    let t = s.trim_start();
    let end = t.char_indices().take_while(|&(i, c)| c.is_ascii_digit() || (i == 0 && (c == '-' || c == '+'))).count();
    t[..end].parse::<i64>().unwrap_or(0)
}

fn combine(op: &str, lhs: PhpValue, rhs: PhpValue) -> PhpValue {
    match op {
        "." => {
            let mut parts = match lhs {
                PhpValue::Concat(p) => p,
                other => {
                    let mut p = Vec::new();
                    push_concat_part(&mut p, other);
                    p
                }
            };
            push_concat_part(&mut parts, rhs);
            finish_concat(parts)
        }
        "+" | "-" | "*" | "/" | "%" | "**" => match (number(&lhs), number(&rhs)) {
            (Some(a), Some(b)) => arithmetic(op, a, b).unwrap_or_else(|| expr_join(lhs, op, &rhs)),
            _ => expr_join(lhs, op, &rhs),
        },
        "&&" | "||" => match (lhs.as_bool(), rhs.as_bool()) {
            (Some(a), Some(b)) => PhpValue::Bool(if op == "&&" { a && b } else { a || b }),
            _ => expr_join(lhs, op, &rhs),
        },
        "??" => match lhs {
            PhpValue::Null => rhs,
            v if v.is_known() => v,
            v => PhpValue::Fallback { value: Box::new(v), default: Box::new(rhs), elvis: false },
        },
        _ => expr_join(lhs, op, &rhs),
    }
}

fn arithmetic(op: &str, a: Num, b: Num) -> Option<PhpValue> {
    if let (Num::I(x), Num::I(y)) = (a, b) {
        let exact = match op {
            "+" => x.checked_add(y),
            "-" => x.checked_sub(y),
            "*" => x.checked_mul(y),
            "/" if y != 0 && x.checked_rem(y) == Some(0) => x.checked_div(y),
            "%" => return (y != 0).then(|| PhpValue::Int(x.checked_rem(y).unwrap_or(0))),
            "**" if (0..=u32::MAX as i64).contains(&y) => x.checked_pow(y as u32),
            _ => None,
        };
        if let Some(v) = exact {
            return Some(PhpValue::Int(v));
        }
    }
    let (x, y) = (a.f(), b.f());
    let v = match op {
        "+" => x + y,
        "-" => x - y,
        "*" => x * y,
        "/" if y != 0.0 => x / y,
        "**" => x.powf(y),
        _ => return None,
    };
    Some(PhpValue::Float(v))
}

// ---------------------------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> PhpValue {
        PhpValue::Str(v.into())
    }

    fn cfg(src: &str) -> PhpValue {
        match parse_config(src) {
            Ok(v) => v,
            Err(e) => panic!("parse failed: {e}"),
        }
    }

    fn value(expr: &str) -> PhpValue {
        let v = cfg(&format!("<?php\nreturn array('v' => {expr});\n"));
        v.get("v").cloned().unwrap_or_else(|| panic!("no value in {v}"))
    }

    fn error(src: &str) -> PhpError {
        match parse_config(src) {
            Ok(v) => panic!("expected an error, parsed {v}"),
            Err(e) => e,
        }
    }

    const SEI_CLASS: &str = r#"<?
class ConfiguracaoSEI extends InfraConfiguracao  {

 	private static $instance = null;

 	public static function getInstance(){
 	  if (ConfiguracaoSEI::$instance == null) {
 	    ConfiguracaoSEI::$instance = new ConfiguracaoSEI();
 	  }
 	  return ConfiguracaoSEI::$instance;
 	}

 	public function getArrConfiguracoes(){
 	  return array(
 	      'SEI' => array(
 	          'URL' => 'http://sei.exemplo.gov.br/sei',
 	          'Producao' => true,
 	          'RepositorioArquivos' => '/var/sei/arquivos',
 	          'Modulos' => array('PENIntegracao' => 'pen', 'ProtocoloIntegradoIntegracao' => 'protocolo-integrado')),

 	      'PaginaSEI' => array(
 	          'NomeSistema' => 'SEI',
 	          'NomeSistemaComplemento' => SEI_VERSAO,
 	          'LogoMenu' => ''),

 	      'BancoSEI'  => array(
 	          'Servidor' => 'db.exemplo.gov.br',
 	          'Porta' => '3306',
 	          'Banco' => 'sei',
 	          'Usuario' => 'sei_user',
 	          'Senha' => 'S3nh4-Banco-Test!',
 	          'Tipo' => 'MySql'), //MySql, SqlServer ou Oracle
 	  );
 	}
}
?>
"#;

    #[test]
    fn reads_the_array_returned_by_get_arr_configuracoes() {
        let v = cfg(SEI_CLASS);
        assert_eq!(v.keys(), ["SEI", "PaginaSEI", "BancoSEI"]);
        assert_eq!(v.get_path(&["SEI", "Producao"]).and_then(PhpValue::as_bool), Some(true));
        assert_eq!(
            v.get_path(&["SEI", "Modulos"]).map(PhpValue::keys).unwrap_or_default(),
            ["PENIntegracao", "ProtocoloIntegradoIntegracao"]
        );
        assert_eq!(v.get_path(&["BancoSEI", "Porta"]).and_then(PhpValue::as_i64), Some(3306));
        assert_eq!(v.get_path(&["BancoSEI", "Senha"]).and_then(PhpValue::as_str), Some("S3nh4-Banco-Test!"));
        assert_eq!(v.get_path(&["PaginaSEI", "NomeSistemaComplemento"]), Some(&PhpValue::Const("SEI_VERSAO".into())));
        assert_eq!(v.get_path(&["SEI", "Nada"]), None);
        assert_eq!(v.get_path(&["SEI", "URL", "x"]), None);
    }

    #[test]
    fn method_name_is_case_insensitive_and_may_return_a_variable() {
        let src = "<?php class C { function GETARRCONFIGURACOES(): array {\n $a = ['x' => 1];\n if (true) { $b = 2; }\n return $a; } }";
        assert_eq!(cfg(src), PhpValue::Array(vec![(PhpKey::Str("x".into()), PhpValue::Int(1))]));
    }

    #[test]
    fn top_level_return_and_assignment() {
        assert_eq!(cfg("<?php return ['a' => 1];").get("a"), Some(&PhpValue::Int(1)));
        assert_eq!(cfg("<?php\n$cfg = array('a' => 2);\n$outra = ['b' => 3];").get("a"), Some(&PhpValue::Int(2)));
        assert_eq!(cfg("<?php $c = ['a' => 4]; return $c;").get("a"), Some(&PhpValue::Int(4)));
        // Assignments that are not arrays are ignored.
        assert_eq!(cfg("<?php $x = 1; $c = ['a' => 5];").get("a"), Some(&PhpValue::Int(5)));
    }

    #[test]
    fn short_arrays_trailing_commas_and_implicit_keys() {
        let v = value("['a', 'b', 5 => 'c', 'd', 'k' => ['x',], '7' => 'e', 'f',]");
        assert_eq!(v.keys(), ["0", "1", "5", "6", "k", "7", "8"]);
        assert_eq!(v.get("6"), Some(&s("d")));
        assert_eq!(v.get("7"), Some(&s("e")));
        assert_eq!(v.entries()[4].0, PhpKey::Str("k".into()));
        assert_eq!(v.get("k").map(PhpValue::keys).unwrap_or_default(), ["0"]);
        assert_eq!(value("array()"), PhpValue::Array(vec![]));
        assert_eq!(value("[]"), PhpValue::Array(vec![]));
    }

    #[test]
    fn repeated_keys_keep_the_last_value_in_the_first_position() {
        let v = value("array('a' => 1, 'b' => 2, 'a' => 3, true => 'x', 1 => 'y', '01' => 'z')");
        assert_eq!(v.keys(), ["a", "b", "1", "01"]);
        assert_eq!(v.get("a"), Some(&PhpValue::Int(3)));
        assert_eq!(v.get("1"), Some(&s("y")));
        assert_eq!(v.get("01"), Some(&s("z")));
    }

    #[test]
    fn single_quoted_strings_know_two_escapes() {
        assert_eq!(value(r"'it\'s \\ \n $x'"), s(r"it's \ \n $x"));
        assert_eq!(value("'two\nlines'"), s("two\nlines"));
    }

    #[test]
    fn double_quoted_strings_know_the_usual_escapes() {
        assert_eq!(value(r#""a\tb\n\"q\" \\ \$x \101\x41\u{e7} \d""#), s("a\tb\n\"q\" \\ $x AA\u{e7} \\d"));
        // Interpolation stays as text, quotes inside `{$…}` included.
        assert_eq!(value(r#""$base/x {$arr["k"]} ${y}""#), s(r#"$base/x {$arr["k"]} ${y}"#));
    }

    #[test]
    fn heredoc_and_nowdoc() {
        let v = value("<<<EOT\n  a\\tb\n    c $x\n  EOT\n");
        assert_eq!(v, s("a\tb\n  c $x"));
        let v = value("<<<'EOT'\nraw\\t\nEOT");
        assert_eq!(v, s("raw\\t"));
    }

    #[test]
    fn concatenation() {
        assert_eq!(value("'a' . \"b\" . 'c'"), s("abc"));
        assert_eq!(value("'porta ' . 4730 . ' ' . 1.5 . true . null"), s("porta 4730 1.51"));
        assert_eq!(
            value("__DIR__ . '/mod-pen/' . 'cert.pem'"),
            PhpValue::Concat(vec![PhpValue::Const("__DIR__".into()), s("/mod-pen/cert.pem")])
        );
        assert_eq!(value("'a' . PHP_EOL").to_string(), "'a' . PHP_EOL");
        assert_eq!(
            value("getenv('HOST').'/sei'"),
            PhpValue::Concat(vec![PhpValue::Call("getenv".into(), vec![s("HOST")]), s("/sei")])
        );
    }

    #[test]
    fn keywords_in_any_case() {
        assert_eq!(value("TRUE"), PhpValue::Bool(true));
        assert_eq!(value("False"), PhpValue::Bool(false));
        assert_eq!(value("NULL"), PhpValue::Null);
        assert_eq!(value("\\true"), PhpValue::Bool(true));
        assert_eq!(value("ARRAY('x')").keys(), ["0"]);
    }

    #[test]
    fn numbers() {
        assert_eq!(value("4730"), PhpValue::Int(4730));
        assert_eq!(value("-15"), PhpValue::Int(-15));
        assert_eq!(value("- 2.5"), PhpValue::Float(-2.5));
        assert_eq!(value("0x1F"), PhpValue::Int(31));
        assert_eq!(value("0755"), PhpValue::Int(493));
        assert_eq!(value("0o17"), PhpValue::Int(15));
        assert_eq!(value("0b101"), PhpValue::Int(5));
        assert_eq!(value("1_000_000"), PhpValue::Int(1_000_000));
        assert_eq!(value("1e3"), PhpValue::Float(1000.0));
        assert_eq!(value(".5"), PhpValue::Float(0.5));
        assert_eq!(value("9223372036854775808"), PhpValue::Float(9223372036854775808.0));
        assert_eq!(value("60 * 60"), PhpValue::Int(3600));
        assert_eq!(value("7 / 2"), PhpValue::Float(3.5));
        assert_eq!(value("2 ** 10"), PhpValue::Int(1024));
        assert_eq!(value("(1 + 2) * 3"), PhpValue::Int(9));
        assert_eq!(value("-9223372036854775807 - 1"), PhpValue::Int(i64::MIN));
        assert!(matches!(value("1 / 0"), PhpValue::Expr(_)));
    }

    #[test]
    fn constants_are_kept_by_name() {
        assert_eq!(value("InfraConfiguracao::X"), PhpValue::Const("InfraConfiguracao::X".into()));
        assert_eq!(value("InfraMail::$TIPO"), PhpValue::Const("InfraMail::$TIPO".into()));
        assert_eq!(value("PHP_EOL"), PhpValue::Const("PHP_EOL".into()));
        assert_eq!(value("__DIR__"), PhpValue::Const("__DIR__".into()));
        assert_eq!(value("\\Foo\\BAR"), PhpValue::Const("\\Foo\\BAR".into()));
        assert_eq!(value("-X").to_string(), "-X");
    }

    #[test]
    fn calls_fallbacks_and_other_expressions() {
        let v = value("getenv('PI_URL') ?: getenv('MODULO_PI_URL')");
        assert_eq!(
            v,
            PhpValue::Fallback {
                value: Box::new(PhpValue::Call("getenv".into(), vec![s("PI_URL")])),
                default: Box::new(PhpValue::Call("getenv".into(), vec![s("MODULO_PI_URL")])),
                elvis: true,
            }
        );
        assert_eq!(value("'' ?: 'b'"), s("b"));
        assert_eq!(value("null ?? 'b'"), s("b"));
        assert_eq!(value("X ?? 'b'").to_string(), "X ?? 'b'");
        assert_eq!(value("dirname(__FILE__) . '/c.pem'").to_string(), "dirname(__FILE__) . '/c.pem'");
        assert_eq!(value("Cls::metodo(1, 'a')"), PhpValue::Call("Cls::metodo".into(), vec![PhpValue::Int(1), s("a")]));
        assert_eq!(value("getenv('A') == 'true' ? true : false").to_string(), "getenv('A') == 'true' ? true : false");
        assert_eq!(value("true ? 'a' : 'b'"), s("a"));
        assert_eq!(value("$x['k']").to_string(), "$x['k']");
        assert_eq!(value("['a' => 1]['a']"), PhpValue::Int(1));
        assert_eq!(value("@getenv('A')").to_string(), "getenv('A')");
    }

    #[test]
    fn casts() {
        assert_eq!(value("(int) '3306'"), PhpValue::Int(3306));
        assert_eq!(value("( int )'12abc'"), PhpValue::Int(12));
        assert_eq!(value("(bool) 1"), PhpValue::Bool(true));
        assert_eq!(value("(boolean)'0'"), PhpValue::Bool(false));
        assert_eq!(value("(string) 4730"), s("4730"));
        assert_eq!(value("(float) '1.5'"), PhpValue::Float(1.5));
        assert_eq!(value("(array) 'x'").keys(), ["0"]);
        assert_eq!(value("(int) getenv('P')").to_string(), "(int)getenv('P')");
    }

    #[test]
    fn comments_and_tags() {
        let src = "<html>\n<?php # hash\n// slashes\n/* block\n 'x' => 1 */\nreturn [ // after\n  'a' => 1, # after\n  /* mid */ 'b' => 2,\n];\n?>\ntrailing html";
        assert_eq!(cfg(src).keys(), ["a", "b"]);
        // A `//` comment ends at `?>`, as in PHP.
        assert_eq!(cfg("<?php $c = ['a' => 1]; // fim ?>\n<p>html</p>").keys(), ["a"]);
        // Short open tag and a BOM.
        assert_eq!(cfg(&decode(b"\xef\xbb\xbf<? return ['a'=>1];")).keys(), ["a"]);
    }

    #[test]
    fn crlf_lines_and_reopened_tags() {
        let src = "<?php\r\n// a\r\n?>\r\n<p>html {x}</p>\r\n<?php\r\nreturn [\r\n  'a' => 'x\r\ny',\r\n  'b' =>\r\n";
        let e = error(src);
        assert_eq!(e.line, 9, "{e}");
        let ok = src.to_string() + "  2,\r\n];\r\n";
        assert_eq!(cfg(&ok).get("a"), Some(&s("x\r\ny")));
        assert_eq!(cfg(&ok).get("b"), Some(&PhpValue::Int(2)));
    }

    #[test]
    fn latin1_files() {
        let bytes = b"<?php\n// Configura\xe7\xe3o\nreturn array('Orgao' => 'Funda\xe7\xe3o', 'n' => 1);\n";
        let text = decode(bytes);
        assert!(text.contains("Configuração"));
        assert_eq!(cfg(&text).get("Orgao"), Some(&s("Fundação")));
        assert_eq!(decode("já é UTF-8".as_bytes()), "já é UTF-8");
    }

    #[test]
    fn php_truthiness_and_integers() {
        for (v, b) in [
            ("true", true),
            ("1", true),
            ("'1'", true),
            ("'true'", true),
            ("'0'", false),
            ("''", false),
            ("0", false),
            ("null", false),
            ("[]", false),
            ("'false'", true),
        ] {
            assert_eq!(value(v).as_bool(), Some(b), "{v}");
        }
        assert_eq!(value("X").as_bool(), None);
        assert_eq!(value("' 4730 '").as_i64(), Some(4730));
        assert_eq!(value("'abc'").as_i64(), None);
        assert_eq!(value("2.0").as_i64(), Some(2));
    }

    #[test]
    fn resolve_evaluates_what_lookup_knows() {
        let v = value("getenv('A') ?: getenv('B') . '/x'");
        let env = |v: &PhpValue| match v {
            PhpValue::Call(n, args) if n == "getenv" => match args.first().and_then(PhpValue::as_str) {
                Some("A") => Some(PhpValue::Bool(false)),
                Some("B") => Some(s("/base")),
                _ => None,
            },
            _ => None,
        };
        assert_eq!(v.resolve(&env), s("/base/x"));
        assert_eq!(value("getenv('C') ?? 'd'").resolve(&env).to_string(), "getenv('C') ?? 'd'");
        assert_eq!(
            value("[X . 'y']").resolve(&|v| (*v == PhpValue::Const("X".into())).then(|| s("x"))).get("0"),
            Some(&s("xy"))
        );
    }

    #[test]
    fn find_define_forms() {
        let src = "<?php\n// Identifica\u{e7}\u{e3}o\ndefine(\"VERSAO_MODULO_PEN\", \"3.6.1\");\nclass PENIntegracao extends SeiIntegracao {\n  const VERSAO_MODULO = VERSAO_MODULO_PEN;\n  const int N = 4;\n  public function x() { return $this->define('VERSAO_MODULO_PI', 'no'); }\n}\ndefine('VERSAO_MODULO_PI','1.2.3');\n";
        assert_eq!(find_define(src, "VERSAO_MODULO_PEN").as_deref(), Some("3.6.1"));
        assert_eq!(find_define(src, "VERSAO_MODULO").as_deref(), Some("3.6.1"));
        assert_eq!(find_define(src, "VERSAO_MODULO_PI").as_deref(), Some("1.2.3"));
        assert_eq!(find_define(src, "N").as_deref(), Some("4"));
        assert_eq!(find_define(src, "NADA"), None);
        assert_eq!(find_define("<?php const A = B; const B = A;", "A"), None);
        assert_eq!(
            find_define("<?php class X { const VERSAO_MODULO = \"2.1.6\"; }", "VERSAO_MODULO").as_deref(),
            Some("2.1.6")
        );
        // An error after the definition does not hide it.
        assert_eq!(find_define("<?php define('V', '1'); 'unterminated", "V").as_deref(), Some("1"));
        assert_eq!(find_define("\0\0", "V"), None);
    }

    #[test]
    fn truncated_file_reports_the_last_line() {
        let e = error("<?php\nreturn array(\n  'SEI' => array(\n    'Producao' => true,\n    'Modulos' => array('PENIntegracao' =>");
        assert_eq!(e.line, 5);
        assert!(e.message.contains("end of file"), "{e}");
        let e = error("<?php\nreturn array(\n  'a' => 1,\n\n");
        assert_eq!(e.line, 3);
        assert!(e.message.contains("opened at line 2"), "{e}");
        let e = error(&SEI_CLASS[..SEI_CLASS.find("'Porta'").unwrap_or(0)]);
        assert!(e.message.contains("end of file"), "{e}");
    }

    #[test]
    fn unterminated_string_reports_where_it_starts() {
        let e = error("<?php\nreturn [\n 'Senha' => 'S3nh4-Leak,\n];\n");
        assert_eq!(e.line, 3);
        assert!(e.message.contains("unterminated string"), "{e}");
        assert!(!e.to_string().contains("S3nh4"), "{e}");
        // The quote opening the next key closes the string: the error is on that line.
        let e = error("<?php\nreturn [\n 'Senha' => 'S3nh4-Leak,\n 'b' => 1,\n];\n");
        assert_eq!(e.line, 4);
        assert!(!e.to_string().contains("S3nh4"), "{e}");
        assert_eq!(error("<?php\n/* aberto\n\n").line, 2);
        assert_eq!(error("<?php return [\"a\n\n").line, 1);
    }

    #[test]
    fn binary_garbage() {
        let e = error("<?php\nreturn [\n\0\x01\x02garbage");
        assert_eq!(e.line, 3);
        let e = error(&decode(b"\x7fELF\x02\x01\x01\xff\xfe"));
        assert_eq!(e.line, 1);
        let e = error(&decode(b"<?php\n\n return \x01;"));
        assert_eq!(e.line, 3);
        assert!(e.message.contains("control character"), "{e}");
        assert_eq!(error("just text, no php").line, 1);
        assert_eq!(error("").line, 1);
    }

    #[test]
    fn unknown_constructs_give_their_line() {
        let e = error("<?php\nreturn [\n  'a' => 1,\n  'b' => new Foo(),\n];");
        assert_eq!((e.line, e.message.contains("`new`")), (4, true), "{e}");
        let e = error("<?php\nreturn [\n  'a' => 1\n  'b' => 2,\n];");
        assert_eq!(e.line, 4);
        assert!(e.message.contains("expected `,` or `]`"), "{e}");
        assert!(!e.message.contains('b'.to_string().as_str()) || !e.message.contains("'b'"), "{e}");
        let e = error("<?php\nreturn [\n  'a' => function() { return 1; },\n];");
        assert_eq!(e.line, 3);
        let e = error("<?php\n\nreturn [\n 'a' => ;\n];");
        assert_eq!(e.line, 4);
        let e = error("<?php\nreturn [[1] => 2];");
        assert_eq!(e.line, 2);
        let e = error("<?php\nreturn 'texto';");
        assert!(e.message.contains("not an array"), "{e}");
        let e = error("<?php\nclass C { public function getArrConfiguracoes() { return [1] } }");
        assert_eq!(e.line, 2);
        let e = error("<?php\nclass C { public function outra() { return [1]; } }");
        assert!(e.message.contains("no configuration array"), "{e}");
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        let src = format!("<?php\nreturn\n{}\n{};", "[\n".repeat(1000), "]".repeat(1000));
        let e = error(&src);
        assert_eq!(e.line, 3 + MAX_DEPTH);
        assert!(e.message.contains("nesting"), "{e}");
        let ok = format!("<?php return {}{};", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(parse_config(&ok).is_ok());
        for unit in ["(", "-", "!", "(int)", "X ?? "] {
            let src = format!("<?php return ['a' => {}1];", unit.repeat(100_000));
            assert!(parse_config(&src).is_err(), "{unit}");
        }
    }

    #[test]
    fn large_inputs_are_linear() {
        let mut src = String::from("<?php return [\n");
        for i in 0..200_000 {
            src.push_str(&format!("'k{i}' => 'v' . {i} . X,\n"));
        }
        src.push_str("];");
        let v = cfg(&src);
        assert_eq!(v.entries().len(), 200_000);
        let chain = format!("<?php return ['a' => 1{}];", " && X".repeat(100_000));
        assert!(parse_config(&chain).is_ok());
        let concat = format!("<?php return ['a' => 'x'{}];", " . 'y'".repeat(200_000));
        assert_eq!(cfg(&concat).get("a").and_then(PhpValue::as_str).map(str::len), Some(200_001));
    }

    #[test]
    fn no_panic_on_any_prefix_or_noise() {
        for end in 0..SEI_CLASS.len() {
            if SEI_CLASS.is_char_boundary(end) {
                let _ = parse_config(&SEI_CLASS[..end]);
                let _ = find_define(&SEI_CLASS[..end], "X");
            }
        }
        let mut rng = crate::mutation::Rng::new(0x2545_f491_4f6c_dd1d);
        let alphabet = b"<?php array()[]'\"\\$=>,.;:#/*-+!?{}0123456789xe_abc \n\t\x00\xe7<<<EOT";
        for _ in 0..3000 {
            let mut bytes = b"<?php return [".to_vec();
            for _ in 0..rng.below(64) {
                bytes.push(alphabet[rng.below(alphabet.len())]);
            }
            let text = decode(&bytes);
            let _ = parse_config(&text);
            let _ = find_define(&text, "X");
        }
    }

    #[test]
    fn error_display() {
        let e = PhpError { line: 7, message: "boom".into() };
        assert_eq!(e.to_string(), "line 7: boom");
    }
}
