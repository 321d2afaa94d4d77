//! Keeps secrets and terminal control characters out of everything pen-doctor prints.
//!
//! **Secrets.** Every password is registered when it enters the program: [`Secret::new`]
//! registers its value, and `settings::register_secrets` adds the credentials of every configured URL
//! (webhooks, proxy, database, supervisord, SEI web services) and the `user:password` pairs sent
//! as HTTP Basic. [`redact`] then replaces, in any text, each registered secret with `***` in
//! every form it can travel in:
//! - plain, URL-encoded (`%XX` upper or lower case, `+` for a space), JSON-escaped (`\"`, `\\`,
//!   `\/`, `\uXXXX`) and XML-escaped (`&amp;`, `&#NN;`), in any mix;
//! - base64: of `user:password` (the `Authorization: Basic` and `Proxy-Authorization: Basic`
//!   values), of the password alone at any offset of a base64 stream, standard or URL-safe
//!   alphabet, with or without padding, even when the base64 is wrapped across lines;
//! - cut short where a text was truncated: a piece of at least [`MIN_PARTIAL`] characters of a
//!   secret at the very end (or start) of a text is redacted too.
//!
//! Secrets of fewer than [`SHORT`] characters would turn ordinary words into stars: they are
//! redacted only where they stand as a whole value after `=`, `:` or `=>` (key=value pairs,
//! headers, URL credentials), or as the whole text. A base64 run shorter than 6 characters is
//! never matched on its own (it would match by chance).
//!
//! **Stable tokens.** A run that writes a ticket bundle (`check --bundle`) calls
//! [`use_stable_tokens`]: every mask is then a token `«SENHA-n»` (`«SECRET-n»` in English)
//! numbered by the value it hides, so the same secret is the same token in every text and every
//! encoding (the password of file A equals the one in file B), and [`tokens`] lists each token
//! with the kind of secret it stands for ([`label_secret`]), never its value.
//!
//! Without any registration, two rules always hold: the password of a URL's `user:password@`
//! is replaced (`https://u:***@host/`), and the value of an `Authorization:` or
//! `Proxy-Authorization:` header (or a base64 token after `Basic `) is replaced.
//!
//! **Control characters.** [`escape_controls`] writes C0 and C1 control characters, DEL, the
//! Unicode bidirectional overrides and isolates (U+202A–U+202E, U+2066–U+2069, the marks
//! U+200E, U+200F, U+061C) and the line/paragraph separators as visible escapes (`\x1b`, `\n`,
//! `\u{202e}`), so a terminal never interprets text from outside and an operator still sees
//! that something was there. Newlines are escaped too: every text from outside is shown as one
//! line. [`clean`] does both, redaction first.
//!
//! [`Secret::new`]: crate::secret::Secret::new

use std::borrow::Cow;
use std::sync::RwLock;

/// What a secret is replaced with.
pub const MASK: &str = "***";
/// Secrets with fewer characters than this are redacted only in value contexts (see the module).
pub const SHORT: usize = 4;
/// The shortest piece of a secret redacted where a text was cut (its first or last characters).
pub const MIN_PARTIAL: usize = 4;
/// The shortest base64 run looked for on its own.
const MIN_BASE64: usize = 6;

/// A set of secrets and the forms they are looked for in.
#[derive(Clone, Debug, Default)]
pub struct Redactor {
    /// Each secret's characters, matched in plain and escaped forms.
    secrets: Vec<Vec<char>>,
    /// What each secret is (`certificate-password`, `config-value:SenhaScript`…), when known:
    /// named in the manifest of a ticket bundle, never with the value.
    kinds: Vec<Option<String>>,
    /// Base64 runs that give a secret away (whole `user:password` encodings, password cores),
    /// each with how many characters before it still carry bits of the secret (0 or 1) and the
    /// index of the secret it encodes.
    base64: Vec<(String, usize, usize)>,
}

/// Whom a masked span belongs to: a registered secret, or a value found by a rule that needs
/// no registration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Owner {
    Secret(usize),
    UrlPassword,
    Authorization,
}

/// One masked place of a text: the value it hides (to number it, never shown) and its kind.
struct Masked<'a> {
    value: std::borrow::Cow<'a, str>,
    kind: Option<&'a str>,
}

static GLOBAL: RwLock<Redactor> = RwLock::new(Redactor::new());

/// The stable tokens of a run that asked for them (`check --bundle`): the same secret is the
/// same `«SENHA-n»` in every text, whatever encoding it was found in.
struct Tokens {
    word: String,
    by_value: std::collections::HashMap<String, usize>,
    kinds: Vec<Option<String>>,
}

static TOKENS: std::sync::Mutex<Option<Tokens>> = std::sync::Mutex::new(None);

impl Tokens {
    /// The number of `value`'s token (from 1), given on first sight; its kind filled in when a
    /// later sighting knows it.
    fn number(&mut self, value: &str, kind: Option<&str>) -> usize {
        let next = self.kinds.len();
        let i = *self.by_value.entry(value.to_string()).or_insert(next);
        if i == next {
            self.kinds.push(kind.map(str::to_string));
        } else if self.kinds[i].is_none() {
            self.kinds[i] = kind.map(str::to_string);
        }
        i + 1
    }

    fn text(&self, n: usize) -> String {
        format!("«{}-{n}»", self.word)
    }
}

/// From now on every secret is replaced with a stable token `«WORD-n»` instead of `***`: the
/// same secret gets the same number in every text of the run (report, files of a bundle).
pub fn use_stable_tokens(word: &str) {
    let mut t = TOKENS.lock().unwrap_or_else(|e| e.into_inner());
    if t.is_none() {
        *t = Some(Tokens { word: word.to_string(), by_value: Default::default(), kinds: Vec::new() });
    }
}

/// The tokens handed out so far, in order (`«SENHA-1»` first), each with its kind when known.
pub fn tokens() -> Vec<(String, Option<String>)> {
    let t = TOKENS.lock().unwrap_or_else(|e| e.into_inner());
    t.as_ref()
        .map(|t| t.kinds.iter().enumerate().map(|(i, k)| (t.text(i + 1), k.clone())).collect())
        .unwrap_or_default()
}

/// Whether a text is a mask already (`***` or a stable token): never masked again.
pub fn is_mask(text: &str) -> bool {
    if text == MASK {
        return true;
    }
    let Some(inner) = text.strip_prefix('«').and_then(|t| t.strip_suffix('»')) else { return false };
    inner.rsplit_once('-').is_some_and(|(w, n)| {
        !w.is_empty()
            && w.chars().all(|c| c.is_ascii_uppercase())
            && !n.is_empty()
            && n.bytes().all(|b| b.is_ascii_digit())
    })
}

/// Registers a secret (if it is not yet) and says what it is, for the manifest of a bundle:
/// `certificate-password`, `database-password`, `config-value:KEY`… The first kind given stays.
pub fn label_secret(secret: &str, kind: &str) {
    let mut r = GLOBAL.write().unwrap_or_else(|e| e.into_inner());
    r.add_secret(secret);
    r.label(secret, kind);
}

/// Registers a secret for the whole process (called by `Secret::new`).
pub fn register_secret(secret: &str) {
    GLOBAL.write().unwrap_or_else(|e| e.into_inner()).add_secret(secret);
}

/// Registers a user and password sent together as HTTP Basic credentials.
pub fn register_credentials(user: &str, password: &str) {
    GLOBAL.write().unwrap_or_else(|e| e.into_inner()).add_credentials(user, password);
}

/// Registers the credentials a URL carries (`scheme://user:password@host`), as written and
/// percent-decoded.
pub fn register_url(url: &str) {
    GLOBAL.write().unwrap_or_else(|e| e.into_inner()).add_url(url);
}

/// `text` with every registered secret, URL password and Authorization value replaced by `***`
/// (or by its stable token, once [`use_stable_tokens`] was called).
pub fn redact(text: &str) -> String {
    redact_noting(text, None)
}

/// [`redact`], adding to `used` the number of every stable token put in the text.
pub fn redact_noting(text: &str, mut used: Option<&mut std::collections::BTreeSet<usize>>) -> String {
    let r = GLOBAL.read().unwrap_or_else(|e| e.into_inner());
    let mut tokens = TOKENS.lock().unwrap_or_else(|e| e.into_inner());
    match tokens.as_mut() {
        None => r.redact(text),
        Some(t) => r.redact_with(text, &mut |m: Masked<'_>| {
            let n = t.number(&m.value, m.kind);
            if let Some(used) = used.as_deref_mut() {
                used.insert(n);
            }
            t.text(n)
        }),
    }
}

/// Text from outside made safe to print: secrets redacted, control characters escaped.
pub fn clean(text: &str) -> String {
    let redacted = redact(text);
    match escape_controls(&redacted) {
        Cow::Borrowed(_) => redacted,
        Cow::Owned(s) => s,
    }
}

/// [`clean`] in place, allocating only when something changes.
pub fn clean_in_place(text: &mut String) {
    let cleaned = clean(text);
    if cleaned != *text {
        *text = cleaned;
    }
}

/// [`clean`] on every string of a JSON value (object keys included), at any depth.
pub fn clean_json(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::String(s) => clean_in_place(s),
        Value::Array(items) => items.iter_mut().for_each(clean_json),
        Value::Object(map) => clean_json_map(map),
        _ => {}
    }
}

/// [`clean_json`] on every key and value of a JSON object.
pub fn clean_json_map(map: &mut serde_json::Map<String, serde_json::Value>) {
    if map.keys().any(|k| clean(k) != *k) {
        let old = std::mem::take(map);
        for (k, v) in old {
            map.insert(clean(&k), v);
        }
    }
    map.values_mut().for_each(clean_json);
}

/// Whether a character must not reach a terminal as it is.
fn is_control(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}'
        | '\u{7f}'..='\u{9f}'
        | '\u{61c}'
        | '\u{200e}'
        | '\u{200f}'
        | '\u{2028}'
        | '\u{2029}'
        | '\u{202a}'..='\u{202e}'
        | '\u{2066}'..='\u{2069}')
}

/// Control characters, bidi overrides and newlines written as visible escapes (`\x1b`, `\n`,
/// `\u{202e}`); other text unchanged.
pub fn escape_controls(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_control) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if is_control(c) && (c as u32) < 0x80 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if is_control(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

impl Redactor {
    pub const fn new() -> Self {
        Redactor { secrets: Vec::new(), kinds: Vec::new(), base64: Vec::new() }
    }

    fn index_of(&self, secret: &str) -> Option<usize> {
        let chars: Vec<char> = secret.chars().collect();
        self.secrets.iter().position(|s| *s == chars)
    }

    /// Adds a secret: its plain and escaped forms, and its base64 at any offset.
    pub fn add_secret(&mut self, secret: &str) {
        if secret.is_empty() || is_mask(secret) || self.index_of(secret).is_some() {
            return;
        }
        self.secrets.push(secret.chars().collect());
        self.kinds.push(None);
        let owner = self.secrets.len() - 1;
        for (core, before) in base64_cores(secret.as_bytes()) {
            self.add_base64(core, before, owner);
        }
    }

    /// Says what a registered secret is (the first kind given stays).
    pub fn label(&mut self, secret: &str, kind: &str) {
        if let Some(i) = self.index_of(secret) {
            self.kinds[i].get_or_insert_with(|| kind.to_string());
        }
    }

    /// Adds a user and password sent together as `Basic base64(user:password)`.
    pub fn add_credentials(&mut self, user: &str, password: &str) {
        if password.is_empty() {
            return;
        }
        self.add_secret(password);
        let Some(owner) = self.index_of(password) else { return };
        let encoded = openssl::base64::encode_block(format!("{user}:{password}").as_bytes());
        let encoded = encoded.trim_end_matches('=').to_string();
        self.add_base64(url_safe(&encoded), 0, owner);
        self.add_base64(encoded, 0, owner);
    }

    /// Adds the credentials of a URL's `user:password@`, as written and percent-decoded.
    pub fn add_url(&mut self, url: &str) {
        for (user, password) in url_credentials(url) {
            let decode = |s: &str| percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned();
            self.add_credentials(&decode(user), &decode(password));
            self.add_credentials(user, password);
        }
    }

    fn add_base64(&mut self, run: String, before: usize, owner: usize) {
        if run.len() >= MIN_BASE64 && !self.base64.iter().any(|(r, _, _)| *r == run) {
            self.base64.push((run, before, owner));
        }
    }

    /// `text` with every secret (any form), URL password and Authorization value replaced.
    pub fn redact(&self, text: &str) -> String {
        self.redact_with(text, &mut |_| MASK.to_string())
    }

    /// `text` with every masked place replaced by what `mask` makes of it.
    fn redact_with(&self, text: &str, mask: &mut dyn FnMut(Masked<'_>) -> String) -> String {
        let mut spans: Vec<(usize, usize, Owner)> = Vec::new();
        let mut found = Vec::new();
        for (i, secret) in self.secrets.iter().enumerate() {
            secret_spans(text, secret, &mut found);
            spans.extend(found.drain(..).map(|(s, e)| (s, e, Owner::Secret(i))));
        }
        base64_spans(text, &self.base64, &mut spans);
        url_password_spans(text, &mut found);
        spans.extend(found.drain(..).map(|(s, e)| (s, e, Owner::UrlPassword)));
        authorization_spans(text, &mut found);
        spans.extend(found.drain(..).map(|(s, e)| (s, e, Owner::Authorization)));
        if spans.is_empty() {
            return text.to_string();
        }
        spans.sort_unstable();
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        let mut i = 0;
        while i < spans.len() {
            let (start, mut end, first) = spans[i];
            // The merged place belongs to the registered secret with the widest span in it.
            let mut owner = (first, end - start);
            i += 1;
            // Overlapping or touching spans become one mask.
            while i < spans.len() && spans[i].0 <= end {
                let (s, e, o) = spans[i];
                let better = match (o, owner.0) {
                    (Owner::Secret(_), Owner::Secret(_)) => e - s > owner.1,
                    (Owner::Secret(_), _) => true,
                    _ => false,
                };
                if better {
                    owner = (o, e - s);
                }
                end = end.max(e);
                i += 1;
            }
            if start < at {
                // Inside a span already masked (cannot happen after the merge; kept safe).
                at = at.max(end);
                continue;
            }
            out.push_str(&text[at..start]);
            out.push_str(&mask(self.masked(owner.0, &text[start..end])));
            at = end;
        }
        out.push_str(&text[at..]);
        out
    }

    /// What a masked place hides: the registered secret, or the value a rule found.
    fn masked<'a>(&'a self, owner: Owner, place: &'a str) -> Masked<'a> {
        match owner {
            Owner::Secret(i) => Masked {
                value: std::borrow::Cow::Owned(self.secrets[i].iter().collect()),
                kind: self.kinds[i].as_deref(),
            },
            Owner::UrlPassword => Masked {
                value: percent_encoding::percent_decode_str(place).decode_utf8_lossy(),
                kind: Some("url-password"),
            },
            Owner::Authorization => Masked { value: std::borrow::Cow::Borrowed(place), kind: Some("authorization") },
        }
    }
}

// ---------------------------------------------------------------------------------- base64

/// The base64 runs that only the secret's bytes determine, for each of the three offsets the
/// secret can start at in a base64 stream (so `base64("anyone:" + secret)` is caught too), in
/// the standard and URL-safe alphabets; with each, whether the character before it mixes in bits
/// of the secret (1) or not (0).
fn base64_cores(secret: &[u8]) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    for offset in 0..3usize {
        let mut bytes = vec![0u8; offset];
        bytes.extend_from_slice(secret);
        let encoded = openssl::base64::encode_block(&bytes);
        let total = bytes.len();
        // Characters fully made of known bits: skip those touching the filler before, and the
        // last one when it mixes in the (unknown) bits after the secret.
        let first = (offset * 8).div_ceil(6);
        let last = total * 8 / 6;
        if let Some(core) = encoded.get(first..last) {
            let before = usize::from(offset > 0);
            out.push((url_safe(core), before));
            out.push((core.to_string(), before));
        }
    }
    out
}

fn url_safe(b64: &str) -> String {
    b64.replace('+', "-").replace('/', "_")
}

/// Spans of the base64 runs in `text`, looked for with whitespace and `\n`-style escapes
/// removed (base64 wrapped across lines), and cut short at the text's ends.
fn base64_spans(text: &str, runs: &[(String, usize, usize)], spans: &mut Vec<(usize, usize, Owner)>) {
    if runs.is_empty() {
        return;
    }
    let b = text.as_bytes();
    let mut compact = String::with_capacity(text.len());
    let mut pos: Vec<usize> = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            b'\\' if matches!(b.get(i + 1), Some(b'n' | b'r' | b't')) => i += 2,
            _ => {
                let c = text[i..].chars().next().unwrap_or('\u{fffd}');
                for k in 0..c.len_utf8() {
                    pos.push(i + k);
                }
                compact.push(c);
                i += c.len_utf8();
            }
        }
    }
    // A match grows over the characters that still carry bits of the secret: `before` of them
    // ahead, and after it the last, partial character and the `=` padding.
    let is_b64 = |c: u8| c.is_ascii_alphanumeric() || b"+/=-_".contains(&c);
    let span = |from: usize, len: usize, before: usize| {
        let (mut start, mut end) = (pos[from], pos[from + len - 1] + 1);
        for _ in 0..before {
            if start > 0 && is_b64(b[start - 1]) {
                start -= 1;
            }
        }
        for _ in 0..3 {
            if end < b.len() && is_b64(b[end]) {
                end += 1;
            }
        }
        (start, end)
    };
    for (run, before, owner) in runs {
        let (before, owner) = (*before, Owner::Secret(*owner));
        let with = |(s, e): (usize, usize)| (s, e, owner);
        for (at, _) in compact.match_indices(run.as_str()) {
            spans.push(with(span(at, run.len(), before)));
        }
        // Cut at the end: the text ends with the run's beginning; cut at the start likewise.
        let longest = run.len().saturating_sub(1).min(compact.len());
        for len in (MIN_BASE64..=longest).rev() {
            if compact.ends_with(&run[..len]) {
                spans.push(with(span(compact.len() - len, len, before)));
                break;
            }
        }
        for len in (MIN_BASE64..=longest).rev() {
            if compact.starts_with(&run[run.len() - len..]) {
                spans.push(with(span(0, len, 0)));
                break;
            }
        }
    }
}

// --------------------------------------------------------------------- plain and escaped forms

/// The lengths of text at `t[j..]` that stand for the character `c`: literally, URL-encoded,
/// `+` for a space, JSON-escaped, XML-escaped. At most a few; more than one only when `c` is
/// itself an escape character (`%`, `+`, `\`, `&`).
fn unit_lengths(t: &[u8], j: usize, c: char) -> ([usize; 4], usize) {
    let mut alts = [0usize; 4];
    let mut n = 0;
    let mut push = |len: usize| {
        if n < alts.len() && len > 0 && !alts[..n].contains(&len) {
            alts[n] = len;
            n += 1;
        }
    };
    let rest = &t[j..];
    let mut buf = [0u8; 4];
    let utf8 = c.encode_utf8(&mut buf).as_bytes();
    if rest.starts_with(utf8) {
        push(utf8.len());
    }
    if rest.first() == Some(&b'%') && percent_matches(rest, utf8) {
        push(utf8.len() * 3);
    }
    if c == ' ' && rest.first() == Some(&b'+') {
        push(1);
    }
    if rest.first() == Some(&b'\\') {
        if let Some(len) = json_escape_len(rest, c) {
            push(len);
        }
    }
    if rest.first() == Some(&b'&') {
        if let Some(len) = xml_escape_len(rest, c) {
            push(len);
        }
    }
    (alts, n)
}

fn hex_value(d: u8) -> Option<u32> {
    (d as char).to_digit(16)
}

/// `%XX%XX…` (either case) spelling exactly `bytes`.
fn percent_matches(rest: &[u8], bytes: &[u8]) -> bool {
    bytes.iter().enumerate().all(|(k, &byte)| {
        let at = k * 3;
        rest.get(at) == Some(&b'%')
            && matches!((rest.get(at + 1).and_then(|d| hex_value(*d)), rest.get(at + 2).and_then(|d| hex_value(*d))),
                (Some(h), Some(l)) if h * 16 + l == byte as u32)
    })
}

/// The length of a JSON escape at the start of `rest` that stands for `c`.
fn json_escape_len(rest: &[u8], c: char) -> Option<usize> {
    let simple = match rest.get(1)? {
        b'"' => Some('"'),
        b'\\' => Some('\\'),
        b'/' => Some('/'),
        b'n' => Some('\n'),
        b'r' => Some('\r'),
        b't' => Some('\t'),
        b'b' => Some('\u{8}'),
        b'f' => Some('\u{c}'),
        _ => None,
    };
    if let Some(s) = simple {
        return (s == c).then_some(2);
    }
    let unit = |at: usize| -> Option<u32> {
        if rest.get(at) != Some(&b'\\') || !matches!(rest.get(at + 1), Some(b'u') | Some(b'U')) {
            return None;
        }
        rest.get(at + 2..at + 6)?.iter().try_fold(0u32, |acc, d| Some(acc * 16 + hex_value(*d)?))
    };
    let first = unit(0)?;
    if first == c as u32 {
        return Some(6);
    }
    let code = c as u32;
    if code > 0xffff && (0xd800..0xdc00).contains(&first) {
        let second = unit(6)?;
        let combined = 0x10000 + ((first - 0xd800) << 10) + (second.checked_sub(0xdc00)?);
        return (combined == code).then_some(12);
    }
    None
}

/// The length of an XML/HTML character reference at the start of `rest` that stands for `c`.
fn xml_escape_len(rest: &[u8], c: char) -> Option<usize> {
    let end = rest.iter().take(12).position(|b| *b == b';')?;
    let name = std::str::from_utf8(&rest[1..end]).ok()?;
    let value = match name {
        "amp" => '&' as u32,
        "lt" => '<' as u32,
        "gt" => '>' as u32,
        "quot" => '"' as u32,
        "apos" => '\'' as u32,
        _ => {
            let num = name.strip_prefix('#')?;
            match num.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => num.parse::<u32>().ok()?,
            }
        }
    };
    (value == c as u32).then_some(end + 1)
}

/// Where `pat` matches `t` from byte `start`, each character in any form; the end of the match.
/// With `cut_ok`, reaching the end of the text after [`MIN_PARTIAL`] characters is a match too.
fn match_from(t: &[u8], start: usize, pat: &[char], cut_ok: bool) -> Option<usize> {
    // Backtracking over the rare characters with two readings (`%` literal or `%25`…),
    // iteratively (a long secret must not grow the stack), within a step budget.
    let mut frames: Vec<(usize, [usize; 4], usize, usize)> = Vec::new();
    let (mut j, mut k) = (start, 0usize);
    let mut budget = pat.len() * 8 + 64;
    loop {
        if k == pat.len() {
            return Some(j);
        }
        if j == t.len() && cut_ok && k >= MIN_PARTIAL {
            return Some(j);
        }
        budget = budget.checked_sub(1)?;
        let (alts, n) = if j < t.len() { unit_lengths(t, j, pat[k]) } else { ([0; 4], 0) };
        if n > 0 {
            frames.push((j, alts, n, 1));
            j += alts[0];
            k += 1;
            continue;
        }
        loop {
            let (fj, falts, fn_, next) = frames.last_mut()?;
            if *next < *fn_ {
                j = *fj + falts[*next];
                *next += 1;
                k = frames.len();
                break;
            }
            frames.pop();
        }
    }
}

/// Whether `t[start..end]` stands as a whole value: after `=`, `:` or `=>` (optionally quoted
/// or spaced) and before the end, a space, a quote or a separator; or the whole text.
fn whole_value(t: &[u8], start: usize, end: usize) -> bool {
    let filler = |b: &&u8| !matches!(b, b' ' | b'\t' | b'"' | b'\'');
    let before = t[..start].iter().rev().find(filler);
    let after = t[end..].iter().find(filler);
    let ends_ok = t.get(end).is_none_or(|b| b" \t\r\n\"'&;,@)]}<".contains(b));
    let whole_text = before.is_none() && after.is_none();
    ends_ok && (whole_text || matches!(before, Some(b'=' | b':' | b'>')))
}

/// The spans where `secret` appears in `text` in any of its plain or escaped forms.
fn secret_spans(text: &str, secret: &[char], spans: &mut Vec<(usize, usize)>) {
    let t = text.as_bytes();
    let short = secret.len() < SHORT;
    let mut first = [0u8; 4];
    let first = secret[0].encode_utf8(&mut first).as_bytes()[0];
    let mut i = 0;
    while i < t.len() {
        let b = t[i];
        if text.is_char_boundary(i) && (b == first || matches!(b, b'%' | b'+' | b'\\' | b'&')) {
            if let Some(end) = match_from(t, i, secret, !short) {
                if !short || whole_value(t, i, end) {
                    spans.push((i, end));
                    i = end.max(i + 1);
                    continue;
                }
            }
        }
        i += 1;
    }
    // The text may start in the middle of a secret (a log tail): its last characters, which
    // must then end inside the text (each character takes at least one byte of it).
    if !short {
        let first = secret.len().saturating_sub(t.len()).max(1);
        for k in first..=secret.len().saturating_sub(MIN_PARTIAL) {
            if let Some(end) = match_from(t, 0, &secret[k..], false) {
                spans.push((0, end));
                break;
            }
        }
    }
}

// ------------------------------------------------------------------------ rules for any text

/// Every `user:password` pair written in URLs of `text` (`scheme://user:password@host`).
fn url_credentials(text: &str) -> Vec<(&str, &str)> {
    let mut out = Vec::new();
    for (start, end) in url_password_ranges(text) {
        let user_start = text[..start - 1].rfind("://").map(|p| p + 3).unwrap_or(0);
        out.push((&text[user_start..start - 1], &text[start..end]));
    }
    out
}

/// The byte ranges of the passwords in `scheme://user:password@` forms of `text`.
fn url_password_ranges(text: &str) -> Vec<(usize, usize)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(found) = text[from..].find("://") {
        let sep = from + found;
        from = sep + 3;
        let has_scheme = sep > 0 && b[sep - 1].is_ascii_alphanumeric();
        if !has_scheme {
            continue;
        }
        let auth_end =
            b[from..].iter().position(|c| b"/?#\\ \t\r\n\"'<>`".contains(c)).map(|p| from + p).unwrap_or(b.len());
        let authority = &text[from..auth_end];
        let Some(at) = authority.rfind('@') else { continue };
        let userinfo = &authority[..at];
        if let Some(colon) = userinfo.find(':') {
            let (start, end) = (from + colon + 1, from + at);
            if start < end {
                out.push((start, end));
            }
        }
    }
    out
}

fn url_password_spans(text: &str, spans: &mut Vec<(usize, usize)>) {
    for range in url_password_ranges(text) {
        if !is_mask(&text[range.0..range.1]) {
            spans.push(range);
        }
    }
}

fn is_token_byte(c: u8) -> bool {
    !c.is_ascii_whitespace() && !b"\"'`,;&<>()[]{}".contains(&c)
}

/// Whether a token looks like base64 and not like a word ("Basic authentication").
fn looks_base64(token: &[u8]) -> bool {
    token.len() >= 8
        && token.iter().all(|c| c.is_ascii_alphanumeric() || b"+/=-_".contains(c))
        && token
            .iter()
            .enumerate()
            .any(|(i, c)| c.is_ascii_digit() || b"+/=".contains(c) || (i > 0 && c.is_ascii_uppercase()))
}

/// The values of `Authorization:`/`Proxy-Authorization:` headers (any case, `:` or `=`), and
/// base64 tokens after the word `Basic`.
fn authorization_spans(text: &str, spans: &mut Vec<(usize, usize)>) {
    let b = text.as_bytes();
    let lower = text.to_ascii_lowercase();
    let skip = |mut i: usize, set: &[u8]| {
        while i < b.len() && set.contains(&b[i]) {
            i += 1;
        }
        i
    };
    let token_end = |i: usize| b[i..].iter().position(|c| !is_token_byte(*c)).map(|p| i + p).unwrap_or(b.len());
    for (at, _) in lower.match_indices("authorization") {
        let mut i = skip(at + "authorization".len(), b" \t\"'");
        if !matches!(b.get(i), Some(b':' | b'=')) {
            continue;
        }
        i = skip(i + 1, b">");
        i = skip(i, b" \t\"'");
        // The scheme word, when one is there.
        let word_end = b[i..].iter().position(|c| !c.is_ascii_alphabetic()).map(|p| i + p).unwrap_or(b.len());
        if word_end > i && word_end < b.len() && b[word_end] == b' ' {
            let word = &lower[i..word_end];
            if ["basic", "bearer", "digest", "negotiate", "ntlm", "token"].contains(&word) {
                i = skip(word_end, b" \t");
            }
        }
        let end = token_end(i);
        if end > i && !is_mask(&text[i..end]) {
            spans.push((i, end));
        }
    }
    for (at, _) in lower.match_indices("basic") {
        if at > 0 && b[at - 1].is_ascii_alphanumeric() {
            continue;
        }
        let i = skip(at + 5, b" \t");
        if i == at + 5 {
            continue;
        }
        let end = token_end(i);
        if looks_base64(&b[i..end]) {
            spans.push((i, end));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(secrets: &[&str]) -> Redactor {
        let mut r = Redactor::new();
        for s in secrets {
            r.add_secret(s);
        }
        r
    }

    fn b64(s: &str) -> String {
        openssl::base64::encode_block(s.as_bytes())
    }

    const PW: &str = "S3nh4 do/Cert&\"x\\é!";

    #[test]
    fn every_encoding_of_a_secret_is_masked() {
        let mut r = with(&[PW]);
        r.add_credentials("usuario-pi", PW);
        let url_upper: String = PW.bytes().map(|b| format!("%{b:02X}")).collect();
        let url_lower = url_upper.to_ascii_lowercase();
        let form = percent_encoding::utf8_percent_encode(PW, percent_encoding::NON_ALPHANUMERIC)
            .to_string()
            .replace("%20", "+");
        let json = serde_json::to_string(PW).unwrap();
        let json = &json[1..json.len() - 1];
        let json_ascii: String = PW
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c.to_string() } else { format!("\\u{:04X}", c as u32) })
            .collect();
        let xml = PW.replace('&', "&amp;").replace('"', "&quot;").replace('é', "&#233;");
        let basic = b64(&format!("usuario-pi:{PW}"));
        let forms = [
            PW.to_string(),
            url_upper,
            url_lower,
            form,
            json.to_string(),
            json_ascii,
            xml,
            basic.clone(),
            basic.trim_end_matches('=').to_string(),
            url_safe(&basic),
            b64(PW),
        ];
        for form in forms {
            let text = format!("got: <p>{form}</p> end");
            let out = r.redact(&text);
            assert_eq!(out, "got: <p>***</p> end", "form {form:?}");
        }
        // The password inside any base64 stream: only the characters made of what comes before
        // it stay.
        for before in ["x", "xy", "xyz", "someone-else:"] {
            let form = b64(&format!("{before}{PW}"));
            let kept = &form[..before.len() * 8 / 6];
            assert_eq!(r.redact(&format!("[{form}]")), format!("[{kept}***]"), "after {before:?}");
        }
    }

    #[test]
    fn base64_wrapped_across_lines_is_masked() {
        let mut r = Redactor::new();
        r.add_credentials("usuario-pi", "Senha-Do-PI-7");
        let basic = b64("usuario-pi:Senha-Do-PI-7");
        let (a, b) = basic.split_at(9);
        for sep in ["\n", "\r\n  ", "\\n", " "] {
            let out = r.redact(&format!("Authorisation echo {a}{sep}{b} done"));
            assert!(!out.contains(a) && !out.contains(b.trim_end_matches('=')), "{sep:?}: {out}");
            assert!(out.starts_with("Authorisation echo ***") && out.ends_with(" done"), "{out}");
        }
    }

    #[test]
    fn a_secret_cut_at_either_end_of_a_text_is_masked() {
        let r = with(&["Cert-Pw-9f3a1c!"]);
        assert_eq!(r.redact("expected WSDL, got: senha=Cert-Pw-9"), "expected WSDL, got: senha=***");
        assert_eq!(r.redact("9f3a1c! was refused"), "*** was refused");
        // A few characters only are not enough to tell.
        assert_eq!(r.redact("a Cer"), "a Cer");
        let mut r = Redactor::new();
        r.add_credentials("usuario-pi", "Senha-Do-PI-7");
        let basic = b64("usuario-pi:Senha-Do-PI-7");
        let out = r.redact(&format!("echo {}", &basic[..20]));
        assert_eq!(out, "echo ***");
    }

    #[test]
    fn short_secrets_only_as_whole_values() {
        let r = with(&["ab", "x"]);
        assert_eq!(r.redact("tabular abstract"), "tabular abstract");
        assert_eq!(r.redact("senha=ab; user: x"), "senha=***; user: ***");
        assert_eq!(r.redact("'Senha' => 'ab',"), "'Senha' => '***',");
        assert_eq!(r.redact("ab"), "***");
        assert_eq!(r.redact("mysql://u:ab@db/sei"), "mysql://u:***@db/sei");
    }

    #[test]
    fn overlapping_secrets_are_one_mask() {
        let r = with(&["abc123", "123xyz", "Senha"]);
        assert_eq!(r.redact("[abc123xyz]"), "[***]");
        assert_eq!(r.redact("Senha Senha"), "*** ***");
        assert_eq!(r.redact("SenhaSenha"), "***");
        // A secret that holds an escape character, next to the escaped form of itself.
        let r = with(&["p%25w+d"]);
        assert_eq!(r.redact("a p%25w+d b p%2525w%2Bd c"), "a *** b *** c");
    }

    #[test]
    fn url_passwords_are_masked_even_unregistered() {
        let r = Redactor::new();
        assert_eq!(
            r.redact("WebService => https://u:PASS@pi.gov.br/ws?wsdl and http://s:p%40ss@127.0.0.1:9001/RPC2"),
            "WebService => https://u:***@pi.gov.br/ws?wsdl and http://s:***@127.0.0.1:9001/RPC2"
        );
        assert_eq!(r.redact("https://user@host/ and a://b"), "https://user@host/ and a://b");
        let mut r = Redactor::new();
        r.add_url("http://proxy-user:pr%C3%B3xy%20pw@127.0.0.1:3128");
        assert_eq!(r.redact("x próxy pw y"), "x *** y");
        let basic = b64("proxy-user:próxy pw");
        assert_eq!(r.redact(&format!("echo {basic}")), "echo ***");
    }

    #[test]
    fn authorization_values_are_masked_even_unregistered() {
        let r = Redactor::new();
        assert_eq!(
            r.redact("HTTP/1.1 407 Proxy-Authorization: Basic dXNlcjpwYXNz"),
            "HTTP/1.1 407 Proxy-Authorization: Basic ***"
        );
        assert_eq!(r.redact("{\"authorization\": \"Bearer abc.def\"}"), "{\"authorization\": \"Bearer ***\"}");
        assert_eq!(r.redact("Basic dXNlcjpwYXNz"), "Basic ***");
        assert_eq!(
            r.redact("Basic authentication failed: authorization required"),
            "Basic authentication failed: authorization required"
        );
    }

    #[test]
    fn nothing_registered_leaves_text_alone() {
        let r = Redactor::new();
        let text = "expected WSDL, got: <html>login</html> 100% + \\ & done";
        assert_eq!(r.redact(text), text);
        let r = with(&["Senha-Longa-1"]);
        assert_eq!(r.redact(text), text);
        assert_eq!(r.redact(""), "");
    }

    #[test]
    fn control_characters_are_escaped_visibly() {
        assert_eq!(escape_controls("plain ção ✔"), Cow::Borrowed("plain ção ✔"));
        assert_eq!(
            escape_controls("a\u{1b}[31mb\u{7}\u{0}\r\n\t\u{7f}\u{9b}\u{202e}x\u{2066}"),
            "a\\x1b[31mb\\x07\\x00\\r\\n\\t\\x7f\\u{9b}\\u{202e}x\\u{2066}"
        );
        assert_eq!(clean("\u{1b}]0;title\u{7}"), "\\x1b]0;title\\x07");
    }

    #[test]
    fn json_values_are_cleaned_at_any_depth() {
        let mut v = serde_json::json!({"a\u{1b}": ["x\u{0}", {"url": "https://u:pw@h/"}], "n": 1});
        clean_json(&mut v);
        assert_eq!(v, serde_json::json!({"a\\x1b": ["x\\x00", {"url": "https://u:***@h/"}], "n": 1}));
    }

    #[test]
    fn a_huge_secret_cut_short_is_masked() {
        // The work per text is bounded by the text's length, not the secret's.
        let huge: String = (0..200_000).map(|i| char::from(b'a' + (i % 26) as u8)).collect();
        let r = with(&[&huge]);
        for i in 0..50 {
            let out = r.redact(&format!("evidence {i} abcdefgh {}", &huge[..40]));
            assert_eq!(out, format!("evidence {i} abcdefgh ***"));
            let out = r.redact(&format!("{} tail {i}", &huge[huge.len() - 30..]));
            assert_eq!(out, format!("*** tail {i}"));
        }
    }

    fn tokenize(r: &Redactor, t: &mut Tokens, text: &str) -> String {
        r.redact_with(text, &mut |m: Masked<'_>| {
            let n = t.number(&m.value, m.kind);
            t.text(n)
        })
    }

    #[test]
    fn stable_tokens_name_the_same_secret_alike_in_every_encoding() {
        let mut r = with(&["Outra-Senha-42"]);
        r.add_credentials("usuario-pi", PW);
        r.label(PW, "pi-password");
        let mut t = Tokens { word: "SENHA".into(), by_value: Default::default(), kinds: Vec::new() };
        let url: String = PW.bytes().map(|b| format!("%{b:02X}")).collect();
        let json = serde_json::to_string(PW).unwrap();
        let basic = b64(&format!("usuario-pi:{PW}"));
        let a = tokenize(&r, &mut t, &format!("senha={PW}; outra=Outra-Senha-42"));
        assert_eq!(a, "senha=«SENHA-1»; outra=«SENHA-2»");
        for form in [url, json[1..json.len() - 1].to_string(), basic, b64(PW)] {
            assert_eq!(tokenize(&r, &mut t, &format!("[{form}]")), "[«SENHA-1»]", "{form}");
        }
        // Found by a rule, unregistered: numbered by value, decoded; a token is never masked again.
        let u = tokenize(&r, &mut t, "https://u:p%40ss@h/ http://v:p@ss@h/ Authorization: Bearer abc.def");
        assert_eq!(u, "https://u:«SENHA-3»@h/ http://v:«SENHA-3»@h/ Authorization: Bearer «SENHA-4»");
        assert_eq!(tokenize(&r, &mut t, &u), u);
        assert_eq!(
            t.kinds,
            vec![Some("pi-password".into()), None, Some("url-password".into()), Some("authorization".into())]
        );
        assert!(is_mask("«SENHA-12»") && is_mask("***") && !is_mask("«SENHA-»") && !is_mask("«x-1»"));
    }

    #[test]
    fn hostile_texts_never_panic() {
        let r = with(&["%%%%%%%%%%%%", "\\\\\\\\", "&&&&&&&&", "é€𝄞x", "++++++++"]);
        let seeds: [&[u8]; 5] = [
            b"%25%25%25%25%25%25%25%25%25%25%25%25%25%25%25%25%25%25%25%25",
            b"\\u00e9\\u20ac\\ud834\\udd1ex \\ud834 \\u",
            b"&#x26;&amp;&#38;&am",
            b"authorization:=>\"Basic ",
            b"a://b:c@ ://@ x:// Basic ",
        ];
        crate::mutation::mutants(&seeds, 3000, |v| {
            let text = String::from_utf8_lossy(v);
            let out = r.redact(&text);
            let _ = escape_controls(&out);
        });
    }
}
