//! The parser of the PHP configuration reader: statements just enough to find the configuration
//! array (a `getArrConfiguracoes()` method, `return`, `$x = …`, `define()`, `const`), and
//! expressions by precedence climbing, folded as they are built (see `fold`).
//!
//! Bounded: every level the value tree gains — nested arrays, parentheses, unary operators,
//! calls, and each link of a ternary, `?:`, `??` or subscript chain that stays unknown — counts
//! against [`MAX_DEPTH`], so neither the parser's recursion nor the tree it returns can grow
//! with the input; chains of one binary operator (`a . b . c`, `a && b && c`) stay flat. Every
//! value read counts against [`MAX_VALUES`], which bounds memory. One pass over the tokens,
//! with a lookahead of at most four, never backwards.

use super::error::{err, Found, PhpError, Problem};
use super::fold::{self, is_node};
use super::lexer::{Lexer, Tok, Token};
use super::limits::{MAX_DEPTH, MAX_VALUES};
use super::values::{BinaryOp, Cast, PhpKey, PhpValue, UnaryOp};
use std::collections::{HashMap, VecDeque};

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

/// Lowest precedence `parse_binary` is called with: just above the ternary operators.
const COALESCE: u8 = 6;

pub(crate) struct Parser<'a> {
    pub(crate) lex: Lexer<'a>,
    buf: VecDeque<Token>,
    depth: usize,
    values: usize,
}

/// A unary operator or a cast in front of a value.
enum Prefix {
    Op(UnaryOp),
    Cast(Cast),
    /// `@` and `&`: no effect on a static value.
    Transparent,
}

impl<'a> Parser<'a> {
    pub(crate) fn new(source: &'a str) -> Self {
        Parser { lex: Lexer::new(source), buf: VecDeque::new(), depth: 0, values: 0 }
    }

    pub(crate) fn peek(&mut self, n: usize) -> Result<&Token, PhpError> {
        while self.buf.len() <= n {
            let t = self.lex.next_token()?;
            self.buf.push_back(t);
        }
        Ok(&self.buf[n])
    }

    pub(crate) fn next(&mut self) -> Result<Token, PhpError> {
        match self.buf.pop_front() {
            Some(t) => Ok(t),
            None => self.lex.next_token(),
        }
    }

    pub(crate) fn peek_is_punct(&mut self, n: usize, p: &str) -> Result<bool, PhpError> {
        Ok(matches!(&self.peek(n)?.tok, Tok::Punct(q) if *q == p))
    }

    pub(crate) fn peek_starts_array(&mut self) -> Result<bool, PhpError> {
        Ok(match &self.peek(0)?.tok {
            Tok::Punct("[") => true,
            Tok::Ident(w) if w.eq_ignore_ascii_case("array") => self.peek_is_punct(1, "(")?,
            _ => false,
        })
    }

    /// The next token when it is `p`; otherwise the problem `otherwise` makes of what was found.
    fn expect_punct(&mut self, p: &'static str, otherwise: impl FnOnce(Found) -> Problem) -> Result<Token, PhpError> {
        let t = self.next()?;
        if t.tok == Tok::Punct(p) {
            Ok(t)
        } else {
            err(t.line, otherwise(t.tok.describe()))
        }
    }

    /// One level deeper (a nested construct, or a link that wraps the value built so far).
    fn enter(&mut self, line: usize) -> Result<(), PhpError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return err(line, Problem::TooDeep(MAX_DEPTH));
        }
        Ok(())
    }

    fn leave(&mut self, levels: usize) {
        self.depth -= levels;
    }

    /// One more value read.
    fn count_value(&mut self, line: usize) -> Result<(), PhpError> {
        self.values += 1;
        if self.values > MAX_VALUES {
            return err(line, Problem::TooManyValues(MAX_VALUES));
        }
        Ok(())
    }

    /// After `function getArrConfiguracoes`: the array its body returns.
    pub(crate) fn config_method(&mut self) -> Result<PhpValue, PhpError> {
        // Parameters and return type, up to the body.
        loop {
            let t = self.next()?;
            match t.tok {
                Tok::Punct("{") => break,
                Tok::Punct(";") => return err(t.line, Problem::MethodWithoutBody),
                Tok::Eof => return err(t.line, Problem::EndInMethod),
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
                Tok::Eof => return err(t.line, Problem::EndInMethod),
                Tok::Punct("{") => {
                    depth += 1;
                    at_start = true;
                }
                Tok::Punct("}") => {
                    depth -= 1;
                    if depth == 0 {
                        return err(t.line, Problem::MethodReturnsNoArray);
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
    pub(crate) fn returned_array(
        &mut self,
        assigned: &HashMap<String, PhpValue>,
        line: usize,
    ) -> Result<PhpValue, PhpError> {
        if let Tok::Var(name) = &self.peek(0)?.tok {
            let name = name.clone();
            if matches!(self.peek(1)?.tok, Tok::Punct(";") | Tok::CloseTag | Tok::Eof) {
                return match assigned.get(&name) {
                    Some(v) if v.is_array() => Ok(v.clone()),
                    _ => err(line, Problem::ReturnedVariableNotArray),
                };
            }
        }
        let value = self.parse_expr()?;
        let t = self.next()?;
        if !matches!(t.tok, Tok::Punct(";") | Tok::CloseTag | Tok::Eof) {
            return err(t.line, Problem::ExpectedSemicolon(t.tok.describe()));
        }
        if !value.is_array() {
            return err(line, Problem::ReturnedNotArray(value.type_name()));
        }
        Ok(value)
    }

    /// After `define`: `("NAME", value)` when NAME is `name`.
    pub(crate) fn define_call(&mut self, name: &str) -> Result<Option<PhpValue>, PhpError> {
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
    pub(crate) fn const_decl(&mut self, name: &str) -> Result<Option<PhpValue>, PhpError> {
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

    /// A whole expression (one level deeper than where it appears).
    pub(crate) fn parse_expr(&mut self) -> Result<PhpValue, PhpError> {
        let line = self.peek(0)?.line;
        self.enter(line)?;
        let v = self.parse_low();
        self.leave(1);
        v
    }

    /// `and`, `xor`, `or`: the loosest operators.
    fn parse_low(&mut self) -> Result<PhpValue, PhpError> {
        let mut lhs = self.parse_ternary()?;
        let mut links = 0;
        loop {
            let (op, line) = {
                let t = self.peek(0)?;
                match &t.tok {
                    Tok::Ident(w) => match BinaryOp::from_keyword(w) {
                        Some(op) => (op, t.line),
                        None => break,
                    },
                    _ => break,
                }
            };
            self.next()?;
            let rhs = self.parse_ternary()?;
            let extends = fold::extends_chain(&lhs, op);
            lhs = fold::binary(op, lhs, rhs);
            if is_node(&lhs) && !extends {
                self.enter(line)?;
                links += 1;
            }
        }
        self.leave(links);
        Ok(lhs)
    }

    /// `a ? b : c` and `a ?: b`, left-associative as PHP 7 reads them.
    fn parse_ternary(&mut self) -> Result<PhpValue, PhpError> {
        let mut cond = self.parse_binary(COALESCE)?;
        let mut links = 0;
        while self.peek_is_punct(0, "?")? {
            let q = self.next()?;
            if self.peek_is_punct(0, ":")? {
                self.next()?;
                let default = self.parse_binary(COALESCE)?;
                cond = fold::elvis(cond, default);
            } else {
                let then = self.parse_expr()?;
                self.expect_punct(":", |found| Problem::ExpectedTernaryColon { line: q.line, found })?;
                let otherwise = self.parse_binary(COALESCE)?;
                cond = fold::ternary(cond, then, otherwise);
            }
            if is_node(&cond) {
                self.enter(q.line)?;
                links += 1;
            }
        }
        self.leave(links);
        Ok(cond)
    }

    /// Binary operators of precedence `min` and tighter (precedence climbing).
    fn parse_binary(&mut self, min: u8) -> Result<PhpValue, PhpError> {
        let mut lhs = self.parse_unary()?;
        let mut links = 0;
        loop {
            let (op, prec, right) = match &self.peek(0)?.tok {
                Tok::Punct(".") => (None, super::values::prec::CONCAT, false),
                Tok::Punct("??") => (None, COALESCE, true),
                Tok::Punct(p) => match BinaryOp::from_token(p) {
                    Some(op) => (Some(op), op.precedence(), op.right_associative()),
                    None => break,
                },
                _ => break,
            };
            if prec < min {
                break;
            }
            let t = self.next()?;
            self.enter(t.line)?;
            let rhs = self.parse_binary(if right { prec } else { prec + 1 });
            self.leave(1);
            let rhs = rhs?;
            let wraps = match (op, &t.tok) {
                (Some(op), _) => {
                    let extends = fold::extends_chain(&lhs, op);
                    lhs = fold::binary(op, lhs, rhs);
                    !extends
                }
                (None, Tok::Punct(".")) => {
                    lhs = fold::concat(lhs, rhs);
                    false
                }
                _ => {
                    lhs = fold::coalesce(lhs, rhs);
                    true
                }
            };
            if wraps && is_node(&lhs) {
                self.enter(t.line)?;
                links += 1;
            }
        }
        self.leave(links);
        Ok(lhs)
    }

    fn parse_unary(&mut self) -> Result<PhpValue, PhpError> {
        let (first, line) = {
            let t = self.peek(0)?;
            (if let Tok::Punct(p) = t.tok { Some(p) } else { None }, t.line)
        };
        let prefix = match first {
            Some("-") => Prefix::Op(UnaryOp::Neg),
            Some("+") => Prefix::Op(UnaryOp::Plus),
            Some("!") => Prefix::Op(UnaryOp::Not),
            Some("~") => Prefix::Op(UnaryOp::BitNot),
            Some("@" | "&") => Prefix::Transparent,
            Some("(") => match self.cast_ahead()? {
                Some(cast) => {
                    for _ in 0..2 {
                        self.next()?;
                    }
                    Prefix::Cast(cast)
                }
                None => return self.parse_postfix(),
            },
            _ => return self.parse_postfix(),
        };
        self.next()?;
        self.enter(line)?;
        let result = self.parse_prefixed(prefix);
        self.leave(1);
        result
    }

    /// `( type )` ahead: the cast.
    fn cast_ahead(&mut self) -> Result<Option<Cast>, PhpError> {
        if !self.peek_is_punct(2, ")")? {
            return Ok(None);
        }
        Ok(match &self.peek(1)?.tok {
            Tok::Ident(w) => Cast::from_name(w),
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
            self.leave(1);
            fold::binary(BinaryOp::Pow, operand, rhs?)
        } else {
            operand
        };
        Ok(match prefix {
            Prefix::Op(op) => fold::unary(op, operand),
            Prefix::Cast(c) => fold::cast(c, operand),
            Prefix::Transparent => operand,
        })
    }

    /// A primary followed by subscripts, property accesses and method calls.
    fn parse_postfix(&mut self) -> Result<PhpValue, PhpError> {
        let mut v = self.parse_primary()?;
        let mut links = 0;
        while let Tok::Punct(p @ ("[" | "->" | "?->")) = self.peek(0)?.tok {
            let open = self.next()?;
            if p == "[" {
                let index = if self.peek_is_punct(0, "]")? { None } else { Some(self.parse_expr()?) };
                self.expect_punct("]", |found| Problem::ExpectedClose {
                    close: "]",
                    open: "[",
                    line: open.line,
                    found,
                })?;
                v = fold::subscript(v, index);
            } else {
                let t = self.next()?;
                let Tok::Ident(member) = t.tok else {
                    return err(t.line, Problem::ExpectedProperty { after: p, found: t.tok.describe() });
                };
                let args = if self.peek_is_punct(0, "(")? { Some(self.parse_args()?) } else { None };
                v = fold::member(v, p == "?->", member, args);
            }
            if is_node(&v) {
                self.enter(open.line)?;
                links += 1;
            }
        }
        self.leave(links);
        Ok(v)
    }

    fn parse_primary(&mut self) -> Result<PhpValue, PhpError> {
        let t = self.next()?;
        self.count_value(t.line)?;
        match t.tok {
            Tok::Int(i) => Ok(PhpValue::Int(i)),
            Tok::Float(f) => Ok(PhpValue::Float(f)),
            Tok::Str(s) => Ok(PhpValue::Str(s)),
            Tok::Var(name) => Ok(fold::variable(name)),
            Tok::Punct("[") => self.parse_array("]", t.line),
            Tok::Punct("(") => {
                let v = self.parse_expr()?;
                self.expect_punct(")", |found| Problem::ExpectedClose { close: ")", open: "(", line: t.line, found })?;
                Ok(v)
            }
            Tok::Ident(word) => self.parse_name(word, t.line),
            Tok::Eof => err(t.line, Problem::ValueMissing),
            other => err(t.line, Problem::UnexpectedToken(other.describe())),
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
            return err(line, Problem::Unsupported(lower));
        }
        let mut name = word;
        if self.peek_is_punct(0, "::")? {
            self.next()?;
            let t = self.next()?;
            match t.tok {
                Tok::Ident(member) => name = format!("{name}::{member}"),
                Tok::Var(member) => return Ok(PhpValue::Const(format!("{name}::${member}"))),
                other => return err(t.line, Problem::ExpectedConstant(other.describe())),
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
        let open = self.expect_punct("(", Problem::ExpectedOpenParen)?;
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
                Tok::Eof => return err(t.line, Problem::CallNotClosed(open.line)),
                other => {
                    return err(t.line, Problem::ExpectedCallSeparator { line: open.line, found: other.describe() })
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
        let unclosed = |line: usize| -> Result<PhpValue, PhpError> { err(line, Problem::ArrayNotClosed(open_line)) };
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
                return unclosed(line);
            }
            if self.peek_is_punct(0, "...")? {
                return err(line, Problem::ArrayUnpacking);
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
                Tok::Eof => return unclosed(t.line),
                other => {
                    return err(
                        t.line,
                        Problem::ExpectedArraySeparator { close, line: open_line, found: other.describe() },
                    )
                }
            }
        }
    }
}

fn to_key(v: PhpValue, line: usize) -> Result<PhpKey, PhpError> {
    match v {
        PhpValue::Array(_) => err(line, Problem::ArrayAsKey),
        other => Ok(fold::key_of(&other).unwrap_or_else(|| PhpKey::Str(other.to_string()))),
    }
}
