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
//! `fold` what PHP would compute from them; `error` and `limits` are the floor they share.

mod error;
mod fold;
mod lexer;
mod limits;
mod parser;
mod values;

pub(crate) use error::err;
pub use error::{Found, PhpError, Problem};
pub use fold::{EnvValue, Evaluation, NoScope, Scope, Source};
pub use limits::{MAX_DEPTH, MAX_SOURCE_BYTES, MAX_VALUES};
pub use values::{BinaryOp, Cast, Expr, PhpKey, PhpValue, UnaryOp};

use lexer::Tok;
use parser::Parser;
use std::collections::HashMap;

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
