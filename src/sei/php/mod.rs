//! Static reader of the PHP configuration files of SEI and its modules: finds the configuration
//! array and `define()`d constants without ever running PHP.
//!
//! Self-contained (std only). It reads what real installations write — `array(...)` and `[...]`,
//! both quote styles, heredocs, concatenation, constants, `getenv()` calls, comparisons,
//! ternaries, `?:`/`??`, casts, comments, ISO-8859-1 — folds what the file itself decides, and
//! keeps what it cannot know (constants, calls, variables) as an expression that
//! [`PhpValue::evaluate`] finishes once a [`Scope`] knows its parts (`getenv()` through the
//! environment of the processes that run SEI, `SEI_VERSAO`…). Anything else is a [`PhpError`]
//! with the 1-based line. Error messages never quote the source: a line of a configuration file
//! may hold a password.
//!
//! Bounded in every dimension: at most [`MAX_SOURCE_BYTES`] of text, [`MAX_DEPTH`] levels of
//! nesting, [`MAX_VALUES`] values; one pass, time linear in the text.
//!
//! `lexer` turns text into tokens, `parser` tokens into values, `values` is the value model,
//! `fold` what PHP would compute from them.

mod fold;
mod lexer;
mod parser;
mod values;

pub use fold::{EnvValue, Evaluation, NoScope, Scope, Source};
pub use values::{BinaryOp, Cast, Expr, PhpKey, PhpValue, UnaryOp};

use lexer::Tok;
use parser::Parser;
use std::collections::HashMap;
use std::fmt;

/// Deepest nesting accepted: arrays, parentheses, unary operators and calls, and each link of a
/// ternary, `?:`, `??` or subscript chain whose value is not known statically.
pub const MAX_DEPTH: usize = 64;

/// Largest text read, in bytes: real configuration files are a few kilobytes.
pub const MAX_SOURCE_BYTES: usize = 4 * 1024 * 1024;

/// Most values (literals, names, arrays…) read from one text: real files hold a few hundred.
/// Bounds the memory the value tree takes.
pub const MAX_VALUES: usize = 100_000;

/// Why a file could not be read; `line` is 1-based. The message never quotes the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PhpError {
    pub line: usize,
    pub problem: Problem,
}

impl fmt::Display for PhpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.problem)
    }
}

impl std::error::Error for PhpError {}

/// What the reader met instead of a configuration it understands. The English words here are
/// the facts kept for machines; a report in Portuguese says them through `checks/phrases.toml`
/// (`[[message]]`, matched as a whole).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error("{size} bytes: larger than the {limit_mib} MiB a configuration file may have")]
    TooLarge { size: usize, limit_mib: usize },
    #[error("binary content (NUL byte): not a PHP source file")]
    Binary,
    #[error("no `<?php` opening tag: not a PHP source file")]
    NoOpeningTag,
    #[error(
        "no configuration array found (expected a getArrConfiguracoes() method, `return array(...)` or \
         `$variable = array(...)`)"
    )]
    NoConfigurationArray,
    #[error("unterminated `/*` comment")]
    UnterminatedComment,
    #[error("unexpected control character 0x{0:02x} (binary data?)")]
    ControlCharacter(u8),
    #[error("unexpected character `{0}`")]
    UnexpectedCharacter(char),
    #[error("unterminated string")]
    UnterminatedString,
    #[error("unterminated heredoc")]
    UnterminatedHeredoc,
    #[error("malformed number")]
    MalformedNumber,
    #[error("nesting deeper than {0} levels")]
    TooDeep(usize),
    #[error("more than {0} values: too large for a configuration file")]
    TooManyValues(usize),
    #[error("getArrConfiguracoes() has no body")]
    MethodWithoutBody,
    #[error("unexpected end of file in getArrConfiguracoes()")]
    EndInMethod,
    #[error("getArrConfiguracoes() does not return an array")]
    MethodReturnsNoArray,
    #[error("the returned variable is not assigned an array literal")]
    ReturnedVariableNotArray,
    #[error("expected `;` after the returned array, found {0}")]
    ExpectedSemicolon(Found),
    #[error("the configuration returned is a {0}, not an array literal")]
    ReturnedNotArray(&'static str),
    #[error("expected `:` of the `?` at line {line}, found {found}")]
    ExpectedTernaryColon { line: usize, found: Found },
    #[error("expected `{close}` to close the `{open}` at line {line}, found {found}")]
    ExpectedClose { close: &'static str, open: &'static str, line: usize, found: Found },
    #[error("expected `(`, found {0}")]
    ExpectedOpenParen(Found),
    #[error("expected a property name after `{after}`, found {found}")]
    ExpectedProperty { after: &'static str, found: Found },
    #[error("unexpected end of file: a value is missing")]
    ValueMissing,
    #[error("unexpected {0} where a value was expected")]
    UnexpectedToken(Found),
    #[error("unsupported construct `{0}` in a configuration value")]
    Unsupported(String),
    #[error("expected a constant name after `::`, found {0}")]
    ExpectedConstant(Found),
    #[error("unexpected end of file: the `(` at line {0} is not closed")]
    CallNotClosed(usize),
    #[error("expected `,` or `)` in the call at line {line}, found {found}")]
    ExpectedCallSeparator { line: usize, found: Found },
    #[error("unexpected end of file: the array opened at line {0} is not closed")]
    ArrayNotClosed(usize),
    #[error("unsupported construct `...` (array unpacking) in a configuration array")]
    ArrayUnpacking,
    #[error("expected `,` or `{close}` after an element of the array opened at line {line}, found {found}")]
    ExpectedArraySeparator { close: &'static str, line: usize, found: Found },
    #[error("an array cannot be an array key")]
    ArrayAsKey,
}

/// What kind of token stood where another was expected (never its text: it may be a secret).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Found {
    #[error("an identifier")]
    Identifier,
    #[error("a variable")]
    Variable,
    #[error("a number")]
    Number,
    #[error("a string")]
    String,
    #[error("`{0}`")]
    Punct(&'static str),
    #[error("`<?php`")]
    OpenTag,
    #[error("`?>`")]
    CloseTag,
    #[error("the end of the file")]
    EndOfFile,
}

pub(crate) fn err<T>(line: usize, problem: Problem) -> Result<T, PhpError> {
    Err(PhpError { line, problem })
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
    if source.len() > MAX_SOURCE_BYTES {
        return err(1, Problem::TooLarge { size: source.len(), limit_mib: MAX_SOURCE_BYTES >> 20 });
    }
    if let Some(i) = source.find('\0') {
        return err(line_at(source, i), Problem::Binary);
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
        return err(1, Problem::NoOpeningTag);
    }
    if let Some(value) = first_assigned.and_then(|name| assigned.remove(&name)) {
        return Ok(value);
    }
    err(1, Problem::NoConfigurationArray)
}

/// Finds `define("NAME", "value")`, `define('NAME','value')` or `const NAME = 'value'` anywhere
/// in the file and returns the value as text. A value that is another constant is followed
/// (`const VERSAO_MODULO = VERSAO_MODULO_PEN;`).
pub fn find_define(source: &str, name: &str) -> Option<String> {
    find_define_depth(source, name, 0)
}

fn find_define_depth(source: &str, name: &str, hops: usize) -> Option<String> {
    if hops > 8 || source.len() > MAX_SOURCE_BYTES || source.contains('\0') {
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

/// Finds `function NAME(…) { return VALUE; }` (a method returning a constant, such as 1.x's
/// `getVersao() { return '1.5.4'; }`) and returns the value as text: a literal, or a constant
/// defined in the same file (`self::VERSAO_MODULO`, `VERSAO_MODULO_PEN`). `None` when the
/// function is absent or returns anything else first.
pub fn find_function_return(source: &str, function: &str) -> Option<String> {
    if source.len() > MAX_SOURCE_BYTES || source.contains('\0') {
        return None;
    }
    let mut p = Parser::new(source);
    loop {
        let t = p.next().ok()?;
        match &t.tok {
            Tok::Eof => return None,
            Tok::Ident(w) if w.eq_ignore_ascii_case("function") => {
                let named = matches!(&p.peek(0).ok()?.tok, Tok::Ident(n) if n.eq_ignore_ascii_case(function));
                if !named {
                    continue;
                }
                // Up to the body's `{`, then the first statement must be `return VALUE;`.
                loop {
                    match p.next().ok()?.tok {
                        Tok::Punct("{") => break,
                        Tok::Punct(";") | Tok::Eof => return None,
                        _ => {}
                    }
                }
                let first = p.next().ok()?;
                if !matches!(&first.tok, Tok::Ident(w) if w.eq_ignore_ascii_case("return")) {
                    return None;
                }
                return match p.parse_expr().ok()? {
                    PhpValue::Const(name) => {
                        let member = name.rsplit("::").next().unwrap_or(&name).to_string();
                        find_define(source, &member)
                    }
                    other => other.scalar_text(),
                };
            }
            _ => {}
        }
    }
}

/// Whether a PHP source opens with the short tag `<?` (not `<?php` nor `<?=`): PHP then reads
/// it as code only when `short_open_tag` is on, and prints it as text otherwise.
pub fn opens_with_short_tag(source: &str) -> bool {
    let rest = source.trim_start_matches('\u{feff}').trim_start();
    let Some(after) = rest.strip_prefix("<?") else { return false };
    let lower: String = after.chars().take(3).collect::<String>().to_ascii_lowercase();
    !(lower.starts_with("php") || after.starts_with('='))
}

/// 1-based line of byte offset `pos`.
fn line_at(source: &str, pos: usize) -> usize {
    source.as_bytes()[..pos.min(source.len())].iter().filter(|&&b| b == b'\n').count() + 1
}

#[cfg(test)]
mod tests;
