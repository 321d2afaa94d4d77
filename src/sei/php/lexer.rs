//! The lexer of the PHP configuration reader: PHP tags, comments, strings (single, double,
//! heredoc, nowdoc, with their escapes), numbers, names, variables and operators. One pass over
//! the text, never backwards; errors name the line and never quote the source.

use super::error::{err, Found, PhpError, Problem};

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Tok {
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
    pub(crate) fn describe(&self) -> Found {
        match self {
            Tok::Ident(_) => Found::Identifier,
            Tok::Var(_) => Found::Variable,
            Tok::Int(_) | Tok::Float(_) => Found::Number,
            Tok::Str(_) => Found::String,
            Tok::Punct(p) => Found::Punct(p),
            Tok::OpenTag => Found::OpenTag,
            Tok::CloseTag => Found::CloseTag,
            Tok::Eof => Found::EndOfFile,
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Token {
    pub(crate) tok: Tok,
    pub(crate) line: usize,
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

pub(crate) struct Lexer<'a> {
    s: &'a str,
    b: &'a [u8],
    pos: usize,
    line: usize,
    in_php: bool,
    /// Whether a PHP opening tag was seen.
    pub(crate) opened: bool,
    eof_line: usize,
}

impl<'a> Lexer<'a> {
    pub(crate) fn new(s: &'a str) -> Self {
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

    pub(crate) fn next_token(&mut self) -> Result<Token, PhpError> {
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
                    None => return err(start_line, Problem::UnterminatedComment),
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
            _ if c < 0x20 || c == 0x7f => err(line, Problem::ControlCharacter(c)),
            _ => match PUNCTS.iter().find(|p| p.as_bytes()[0] == c && self.starts_with(self.pos, p)) {
                Some(p) => {
                    self.advance_to(self.pos + p.len());
                    Ok(Tok::Punct(p))
                }
                None => err(line, Problem::UnexpectedCharacter(char::from(c))),
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
                None => return err(line, Problem::UnterminatedString),
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
                None => return err(line, Problem::UnterminatedString),
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
        err(line, Problem::UnterminatedString)
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
                return err(line, Problem::UnterminatedHeredoc);
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
                None => return err(line, Problem::UnterminatedHeredoc),
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
                Err(_) => err(line, Problem::MalformedNumber),
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
        return err(line, Problem::MalformedNumber);
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
