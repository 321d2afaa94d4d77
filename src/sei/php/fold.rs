//! Folding and evaluation: what PHP would compute from known values — concatenation,
//! arithmetic, comparisons (`==`, `===`, `<`, `<=>`… with PHP 8's rules), `!`, `&&`/`||`,
//! ternaries, `?:`, `??`, casts, array subscripts — and, through a caller's [`Scope`], constants
//! (`SEI_VERSAO`, `__DIR__`) and `getenv()`. What stays unknown is kept as an expression, with
//! the names of the unknown parts; what came from outside names its source.
//!
//! Recursion here follows the value tree, whose depth the parser bounds.

use super::values::{BinaryOp, Cast, Expr, PhpKey, PhpValue, UnaryOp};
use std::cmp::Ordering;

/// What a configuration may ask of the world outside the file. Every method has a default that
/// knows nothing, so a scope implements only what it knows.
pub trait Scope {
    /// `getenv(name)`: its value and where it came from, that it is not set (PHP's `false`), or
    /// nothing known (the value then stays unresolved).
    fn getenv(&self, _name: &str) -> EnvValue {
        EnvValue::Unknown
    }

    /// A constant PHP would know (`__DIR__`, `SEI_VERSAO`…) and where it came from.
    fn constant(&self, _name: &str) -> Option<(PhpValue, String)> {
        None
    }

    /// Any other call, its arguments known (`dirname('/a/b')`); `getenv` never comes here.
    fn call(&self, _name: &str, _args: &[PhpValue]) -> Option<PhpValue> {
        None
    }
}

/// What a [`Scope`] knows of an environment variable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EnvValue {
    /// Nothing: the value stays unresolved.
    Unknown,
    /// Known not to be set in `source` (such as "environment of php-fpm (PID 123)"): `false`.
    Unset { source: String },
    /// Set in `source`.
    Set { value: String, source: String },
}

/// A scope that knows nothing: evaluation folds only what the file itself holds.
pub struct NoScope;

impl Scope for NoScope {}

/// Where a value that evaluation used came from, such as `getenv('APP_HOST')` from
/// "environment of pen-doctor". Never the value itself: it may be a password.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    pub what: String,
    pub from: String,
}

/// The result of [`PhpValue::evaluate`].
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    pub value: PhpValue,
    /// The outside values used, in the order they were used.
    pub sources: Vec<Source>,
    /// What could not be known (`getenv('APP_HOST')`, `SEI_VERSAO`, `$x`, `base64_decode()`),
    /// in order, without repetitions; empty when the value is known. Never a value or argument
    /// other than a `getenv()` variable name.
    pub unknown: Vec<String>,
}

impl PhpValue {
    /// Evaluates what can be evaluated with what `scope` knows, as PHP would, following only
    /// the branches PHP would take.
    pub fn evaluate(&self, scope: &dyn Scope) -> Evaluation {
        let mut ev = Evaluator { scope, sources: Vec::new(), unknown: Vec::new() };
        let value = ev.eval(self);
        Evaluation { value, sources: ev.sources, unknown: ev.unknown }
    }

    /// Evaluates what can be evaluated. `lookup` is asked about each `Const` and `Call` (its
    /// arguments already evaluated; `getenv` as `Call("getenv", [name])`) and returns its value
    /// when it knows it. What `lookup` returns is used as is.
    pub fn resolve(&self, lookup: &dyn Fn(&PhpValue) -> Option<PhpValue>) -> PhpValue {
        self.evaluate(&LookupScope(lookup)).value
    }
}

/// The scope of [`PhpValue::resolve`]: one function answers everything.
struct LookupScope<'a>(&'a dyn Fn(&PhpValue) -> Option<PhpValue>);

impl Scope for LookupScope<'_> {
    fn getenv(&self, name: &str) -> EnvValue {
        match (self.0)(&PhpValue::Call("getenv".into(), vec![PhpValue::Str(name.into())])) {
            Some(PhpValue::Bool(false)) => EnvValue::Unset { source: "lookup".into() },
            Some(v) => match v.scalar_text() {
                Some(value) => EnvValue::Set { value, source: "lookup".into() },
                None => EnvValue::Unknown,
            },
            None => EnvValue::Unknown,
        }
    }

    fn constant(&self, name: &str) -> Option<(PhpValue, String)> {
        (self.0)(&PhpValue::Const(name.into())).map(|v| (v, "lookup".into()))
    }

    fn call(&self, name: &str, args: &[PhpValue]) -> Option<PhpValue> {
        (self.0)(&PhpValue::Call(name.into(), args.to_vec()))
    }
}

/// Whether `name` is PHP's `getenv` (any case, with or without the leading `\`).
fn is_getenv(name: &str) -> bool {
    name.trim_start_matches('\\').eq_ignore_ascii_case("getenv")
}

struct Evaluator<'a> {
    scope: &'a dyn Scope,
    sources: Vec<Source>,
    unknown: Vec<String>,
}

impl Evaluator<'_> {
    fn unknown(&mut self, what: String) {
        if !self.unknown.contains(&what) {
            self.unknown.push(what);
        }
    }

    fn eval(&mut self, v: &PhpValue) -> PhpValue {
        match v {
            PhpValue::Null | PhpValue::Bool(_) | PhpValue::Int(_) | PhpValue::Float(_) | PhpValue::Str(_) => v.clone(),
            PhpValue::Array(entries) => {
                PhpValue::Array(entries.iter().map(|(k, v)| (k.clone(), self.eval(v))).collect())
            }
            PhpValue::Const(name) => match self.scope.constant(name.trim_start_matches('\\')) {
                Some((value, from)) => {
                    self.sources.push(Source { what: name.clone(), from });
                    value
                }
                None => {
                    self.unknown(name.clone());
                    v.clone()
                }
            },
            PhpValue::Call(name, args) => {
                let args: Vec<PhpValue> = args.iter().map(|a| self.eval(a)).collect();
                self.call(name, args)
            }
            PhpValue::Concat(parts) => {
                let mut out = Vec::with_capacity(parts.len());
                for p in parts {
                    let part = self.eval(p);
                    push_concat_part(&mut out, part);
                }
                finish_concat(out)
            }
            PhpValue::Fallback { value, default, elvis } => {
                let value = self.eval(value);
                let keep = if *elvis { value.as_bool() } else { value.is_known().then(|| value != PhpValue::Null) };
                match keep {
                    Some(true) => value,
                    Some(false) => self.eval(default),
                    None => {
                        let default = self.eval(default);
                        PhpValue::Fallback { value: Box::new(value), default: Box::new(default), elvis: *elvis }
                    }
                }
            }
            PhpValue::Expr(e) => self.expr(e),
        }
    }

    fn call(&mut self, name: &str, args: Vec<PhpValue>) -> PhpValue {
        if is_getenv(name) && (1..=2).contains(&args.len()) {
            if let Some(var) = args[0].as_str() {
                let what = format!("getenv('{var}')");
                return match self.scope.getenv(var) {
                    EnvValue::Set { value, source } => {
                        self.sources.push(Source { what, from: source });
                        PhpValue::Str(value)
                    }
                    EnvValue::Unset { source } => {
                        self.sources.push(Source { what, from: source });
                        PhpValue::Bool(false)
                    }
                    EnvValue::Unknown => {
                        self.unknown(what);
                        PhpValue::Call(name.to_string(), args)
                    }
                };
            }
        }
        if args.iter().all(PhpValue::is_known) {
            if let Some(v) = self.scope.call(name.trim_start_matches('\\'), &args) {
                return v;
            }
        }
        self.unknown(format!("{name}()"));
        PhpValue::Call(name.to_string(), args)
    }

    fn expr(&mut self, e: &Expr) -> PhpValue {
        match e {
            Expr::Unary(op, v) => {
                let v = self.eval(v);
                unary(*op, v)
            }
            Expr::Chain(first, rest) => {
                let mut acc = self.eval(first);
                for (op, v) in rest {
                    // `&&` and `||` stop where PHP stops: the right side is not looked at.
                    let decided = match op {
                        BinaryOp::And | BinaryOp::LowAnd => acc.as_bool() == Some(false),
                        BinaryOp::Or | BinaryOp::LowOr => acc.as_bool() == Some(true),
                        _ => false,
                    };
                    acc = if decided {
                        PhpValue::Bool(acc.as_bool() == Some(true))
                    } else {
                        binary(*op, acc, self.eval(v))
                    };
                }
                acc
            }
            Expr::Ternary(cond, then, otherwise) => {
                let cond = self.eval(cond);
                match cond.as_bool() {
                    Some(true) => self.eval(then),
                    Some(false) => self.eval(otherwise),
                    None => {
                        let then = self.eval(then);
                        let otherwise = self.eval(otherwise);
                        ternary(cond, then, otherwise)
                    }
                }
            }
            Expr::Cast(c, v) => {
                let v = self.eval(v);
                cast(*c, v)
            }
            Expr::Var(name) => {
                self.unknown(format!("${name}"));
                PhpValue::Expr(Box::new(e.clone()))
            }
            Expr::Index(base, index) => {
                let base = self.eval(base);
                let index = index.as_ref().map(|i| self.eval(i));
                subscript(base, index)
            }
            Expr::Member { object, nullsafe, name, args } => {
                let object = self.eval(object);
                let args = args.as_ref().map(|a| a.iter().map(|x| self.eval(x)).collect());
                self.unknown(format!("->{name}"));
                member(object, *nullsafe, name.clone(), args)
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Folding: each function returns the known result, or the expression when it cannot be known.

/// Whether the value is an expression node (a form that wraps other values).
pub(crate) fn is_node(v: &PhpValue) -> bool {
    matches!(v, PhpValue::Expr(_) | PhpValue::Fallback { .. })
}

fn node(e: Expr) -> PhpValue {
    PhpValue::Expr(Box::new(e))
}

/// Whether `binary(op, lhs, …)` would add `op` to `lhs`'s chain rather than wrap it.
pub(crate) fn extends_chain(lhs: &PhpValue, op: BinaryOp) -> bool {
    match lhs {
        PhpValue::Expr(e) => match &**e {
            Expr::Chain(_, rest) => {
                !op.right_associative() && rest.first().is_some_and(|(o, _)| o.precedence() == op.precedence())
            }
            _ => false,
        },
        _ => false,
    }
}

fn chain(op: BinaryOp, lhs: PhpValue, rhs: PhpValue) -> PhpValue {
    if extends_chain(&lhs, op) {
        if let PhpValue::Expr(mut e) = lhs {
            if let Expr::Chain(_, rest) = &mut *e {
                rest.push((op, rhs));
            }
            return PhpValue::Expr(e);
        }
        unreachable!("extends_chain holds only for chains");
    }
    node(Expr::Chain(lhs, vec![(op, rhs)]))
}

pub(crate) fn unary(op: UnaryOp, v: PhpValue) -> PhpValue {
    let known = match op {
        UnaryOp::Neg => match number(&v) {
            Some(Num::I(i)) => Some(i.checked_neg().map_or(PhpValue::Float(-(i as f64)), PhpValue::Int)),
            Some(Num::F(f)) => Some(PhpValue::Float(-f)),
            None => None,
        },
        UnaryOp::Plus => number(&v).map(Num::value),
        UnaryOp::Not => v.as_bool().map(|b| PhpValue::Bool(!b)),
        UnaryOp::BitNot => match v {
            PhpValue::Int(i) => Some(PhpValue::Int(!i)),
            _ => None,
        },
    };
    known.unwrap_or_else(|| node(Expr::Unary(op, v)))
}

pub(crate) fn binary(op: BinaryOp, lhs: PhpValue, rhs: PhpValue) -> PhpValue {
    use BinaryOp::*;
    let known = match op {
        And | LowAnd => match (lhs.as_bool(), rhs.as_bool()) {
            (Some(false), _) | (_, Some(false)) => Some(false),
            (Some(true), Some(true)) => Some(true),
            _ => None,
        }
        .map(PhpValue::Bool),
        Or | LowOr => match (lhs.as_bool(), rhs.as_bool()) {
            (Some(true), _) | (_, Some(true)) => Some(true),
            (Some(false), Some(false)) => Some(false),
            _ => None,
        }
        .map(PhpValue::Bool),
        LowXor => lhs.as_bool().zip(rhs.as_bool()).map(|(a, b)| PhpValue::Bool(a ^ b)),
        Eq => loose_eq(&lhs, &rhs).map(PhpValue::Bool),
        NotEq => loose_eq(&lhs, &rhs).map(|b| PhpValue::Bool(!b)),
        Identical => identical(&lhs, &rhs).map(PhpValue::Bool),
        NotIdentical => identical(&lhs, &rhs).map(|b| PhpValue::Bool(!b)),
        Lt => compare(&lhs, &rhs).map(|o| PhpValue::Bool(o == Ordering::Less)),
        Le => compare(&lhs, &rhs).map(|o| PhpValue::Bool(o != Ordering::Greater)),
        Gt => compare(&lhs, &rhs).map(|o| PhpValue::Bool(o == Ordering::Greater)),
        Ge => compare(&lhs, &rhs).map(|o| PhpValue::Bool(o != Ordering::Less)),
        Spaceship => compare(&lhs, &rhs).map(|o| PhpValue::Int(o as i64)),
        Add | Sub | Mul | Div | Mod | Pow => match (number(&lhs), number(&rhs)) {
            (Some(a), Some(b)) => arithmetic(op, a, b),
            _ => None,
        },
        BitOr | BitXor | BitAnd | Shl | Shr => match (&lhs, &rhs) {
            (PhpValue::Int(a), PhpValue::Int(b)) => bitwise(op, *a, *b),
            _ => None,
        },
    };
    known.unwrap_or_else(|| chain(op, lhs, rhs))
}

/// `lhs . rhs`: known parts are joined, the rest is kept in order.
pub(crate) fn concat(lhs: PhpValue, rhs: PhpValue) -> PhpValue {
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

/// `value ?: default`.
pub(crate) fn elvis(value: PhpValue, default: PhpValue) -> PhpValue {
    match value.as_bool() {
        Some(true) => value,
        Some(false) => default,
        None => PhpValue::Fallback { value: Box::new(value), default: Box::new(default), elvis: true },
    }
}

/// `value ?? default`.
pub(crate) fn coalesce(value: PhpValue, default: PhpValue) -> PhpValue {
    match value {
        PhpValue::Null => default,
        v if v.is_known() => v,
        v => PhpValue::Fallback { value: Box::new(v), default: Box::new(default), elvis: false },
    }
}

/// `cond ? then : otherwise`.
pub(crate) fn ternary(cond: PhpValue, then: PhpValue, otherwise: PhpValue) -> PhpValue {
    match cond.as_bool() {
        Some(true) => then,
        Some(false) => otherwise,
        None => node(Expr::Ternary(cond, then, otherwise)),
    }
}

/// `base[index]`: an array's element (`null` when absent, as PHP gives with a warning).
pub(crate) fn subscript(base: PhpValue, index: Option<PhpValue>) -> PhpValue {
    if let (PhpValue::Array(entries), Some(i)) = (&base, &index) {
        if let Some(key) = i.is_known().then(|| key_of(i)).flatten() {
            return entries.iter().find(|(k, _)| *k == key).map_or(PhpValue::Null, |(_, v)| v.clone());
        }
    }
    node(Expr::Index(base, index))
}

pub(crate) fn member(object: PhpValue, nullsafe: bool, name: String, args: Option<Vec<PhpValue>>) -> PhpValue {
    node(Expr::Member { object, nullsafe, name, args })
}

pub(crate) fn variable(name: String) -> PhpValue {
    node(Expr::Var(name))
}

/// The array key a known value stands for, as PHP converts it; `None` for arrays.
pub(crate) fn key_of(v: &PhpValue) -> Option<PhpKey> {
    Some(match v {
        PhpValue::Int(i) => PhpKey::Int(*i),
        PhpValue::Str(s) => PhpKey::from_text(s),
        PhpValue::Bool(b) => PhpKey::Int(i64::from(*b)),
        PhpValue::Null => PhpKey::Str(String::new()),
        PhpValue::Float(f) if f.is_finite() => PhpKey::Int(*f as i64),
        PhpValue::Array(_) | PhpValue::Float(_) => return None,
        other => PhpKey::Str(other.to_string()),
    })
}

pub(crate) fn cast(c: Cast, v: PhpValue) -> PhpValue {
    if !v.is_known() {
        return node(Expr::Cast(c, v));
    }
    match c {
        Cast::Int => PhpValue::Int(match v {
            PhpValue::Array(a) => i64::from(!a.is_empty()),
            PhpValue::Str(ref s) => leading_int(s),
            other => match number(&other) {
                Some(Num::I(i)) => i,
                Some(Num::F(f)) if f.is_finite() => f as i64,
                _ => 0,
            },
        }),
        Cast::Bool => PhpValue::Bool(v.as_bool().unwrap_or(false)),
        Cast::Float => PhpValue::Float(number(&v).map_or(0.0, Num::f)),
        Cast::String if !v.is_array() => PhpValue::Str(v.scalar_text().unwrap_or_default()),
        Cast::Array => match v {
            PhpValue::Array(_) => v,
            PhpValue::Null => PhpValue::Array(Vec::new()),
            other => PhpValue::Array(vec![(PhpKey::Int(0), other)]),
        },
        _ => node(Expr::Cast(c, v)),
    }
}

/// The integer at the start of a string, as `(int)` reads it.
fn leading_int(s: &str) -> i64 {
    let t = s.trim_start();
    let end = t.char_indices().take_while(|&(i, c)| c.is_ascii_digit() || (i == 0 && (c == '-' || c == '+'))).count();
    t[..end].parse::<i64>().unwrap_or(0)
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Num {
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

/// A number for arithmetic: ints, floats, bools, null and numeric strings.
fn number(v: &PhpValue) -> Option<Num> {
    match v {
        PhpValue::Int(i) => Some(Num::I(*i)),
        PhpValue::Float(f) => Some(Num::F(*f)),
        PhpValue::Bool(b) => Some(Num::I(i64::from(*b))),
        PhpValue::Null => Some(Num::I(0)),
        PhpValue::Str(s) => numeric_str(s),
        _ => None,
    }
}

/// A PHP numeric string (`" 12"`, `"1.5e3 "`, `"-.5"`), as its number; `None` for any other
/// string (`"12abc"`, `"0x1A"`, `"inf"`).
pub(crate) fn numeric_str(s: &str) -> Option<Num> {
    let t = s.trim_matches(|c| matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c'));
    let b = t.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    let digits = |i: &mut usize| {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - start
    };
    let int_digits = digits(&mut i);
    let mut float = false;
    let mut frac_digits = 0;
    if b.get(i) == Some(&b'.') {
        float = true;
        i += 1;
        frac_digits = digits(&mut i);
    }
    if int_digits + frac_digits == 0 {
        return None;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        let mut j = i + 1;
        if matches!(b.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        if digits(&mut j) == 0 {
            return None;
        }
        float = true;
        i = j;
    }
    if i != b.len() {
        return None;
    }
    if !float {
        if let Ok(n) = t.parse::<i64>() {
            return Some(Num::I(n));
        }
    }
    t.parse::<f64>().ok().map(Num::F)
}

fn arithmetic(op: BinaryOp, a: Num, b: Num) -> Option<PhpValue> {
    if let (Num::I(x), Num::I(y)) = (a, b) {
        let exact = match op {
            BinaryOp::Add => x.checked_add(y),
            BinaryOp::Sub => x.checked_sub(y),
            BinaryOp::Mul => x.checked_mul(y),
            BinaryOp::Div if y != 0 && x.checked_rem(y) == Some(0) => x.checked_div(y),
            BinaryOp::Mod => return (y != 0).then(|| PhpValue::Int(x.checked_rem(y).unwrap_or(0))),
            BinaryOp::Pow if (0..=i64::from(u32::MAX)).contains(&y) => x.checked_pow(y as u32),
            _ => None,
        };
        if let Some(v) = exact {
            return Some(PhpValue::Int(v));
        }
    }
    let (x, y) = (a.f(), b.f());
    let v = match op {
        BinaryOp::Add => x + y,
        BinaryOp::Sub => x - y,
        BinaryOp::Mul => x * y,
        BinaryOp::Div if y != 0.0 => x / y,
        BinaryOp::Pow => x.powf(y),
        _ => return None,
    };
    Some(PhpValue::Float(v))
}

fn bitwise(op: BinaryOp, a: i64, b: i64) -> Option<PhpValue> {
    let v = match op {
        BinaryOp::BitOr => a | b,
        BinaryOp::BitXor => a ^ b,
        BinaryOp::BitAnd => a & b,
        // A negative shift is an error in PHP; 64 or more shifts everything out.
        BinaryOp::Shl if b >= 0 => u32::try_from(b).ok().and_then(|s| a.checked_shl(s)).unwrap_or(0),
        BinaryOp::Shr if b >= 0 => {
            u32::try_from(b).ok().and_then(|s| a.checked_shr(s)).unwrap_or(if a < 0 { -1 } else { 0 })
        }
        _ => return None,
    };
    Some(PhpValue::Int(v))
}

fn num_cmp(a: Num, b: Num) -> Option<Ordering> {
    match (a, b) {
        (Num::I(x), Num::I(y)) => Some(x.cmp(&y)),
        _ => a.f().partial_cmp(&b.f()),
    }
}

fn scalar_num(v: &PhpValue) -> Option<Num> {
    match v {
        PhpValue::Int(i) => Some(Num::I(*i)),
        PhpValue::Float(f) => Some(Num::F(*f)),
        _ => None,
    }
}

/// `a == b` with PHP 8's loose comparison, when both sides are known.
pub(crate) fn loose_eq(a: &PhpValue, b: &PhpValue) -> Option<bool> {
    if !a.is_known() || !b.is_known() {
        return None;
    }
    Some(match (a, b) {
        (PhpValue::Null, PhpValue::Null) => true,
        (PhpValue::Bool(x), other) | (other, PhpValue::Bool(x)) => Some(*x) == other.as_bool(),
        (PhpValue::Null, PhpValue::Str(s)) | (PhpValue::Str(s), PhpValue::Null) => s.is_empty(),
        (PhpValue::Null, other) | (other, PhpValue::Null) => other.as_bool() == Some(false),
        (PhpValue::Array(x), PhpValue::Array(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.iter().find(|(k2, _)| k2 == k).is_some_and(|(_, w)| loose_eq(v, w) == Some(true)))
        }
        (PhpValue::Array(_), _) | (_, PhpValue::Array(_)) => false,
        _ => compare(a, b)? == Ordering::Equal,
    })
}

/// `a === b`, when both sides are known.
pub(crate) fn identical(a: &PhpValue, b: &PhpValue) -> Option<bool> {
    if !a.is_known() || !b.is_known() {
        return None;
    }
    Some(match (a, b) {
        (PhpValue::Array(x), PhpValue::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|((k, v), (k2, w))| k == k2 && identical(v, w) == Some(true))
        }
        (PhpValue::Float(x), PhpValue::Float(y)) => x == y,
        _ => std::mem::discriminant(a) == std::mem::discriminant(b) && a == b,
    })
}

/// `a <=> b` with PHP 8's rules for scalars (arrays are not ordered here), when both are known.
pub(crate) fn compare(a: &PhpValue, b: &PhpValue) -> Option<Ordering> {
    if !a.is_known() || !b.is_known() || a.is_array() || b.is_array() {
        return None;
    }
    match (a, b) {
        (PhpValue::Null, PhpValue::Str(s)) => Some("".cmp(s.as_str())),
        (PhpValue::Str(s), PhpValue::Null) => Some(s.as_str().cmp("")),
        (PhpValue::Bool(_) | PhpValue::Null, _) | (_, PhpValue::Bool(_) | PhpValue::Null) => {
            Some(a.as_bool()?.cmp(&b.as_bool()?))
        }
        (PhpValue::Str(x), PhpValue::Str(y)) => match (numeric_str(x), numeric_str(y)) {
            (Some(m), Some(n)) => num_cmp(m, n),
            _ => Some(x.as_bytes().cmp(y.as_bytes())),
        },
        (PhpValue::Str(s), n) => match numeric_str(s) {
            Some(m) => num_cmp(m, scalar_num(n)?),
            None => Some(s.as_bytes().cmp(n.scalar_text()?.as_bytes())),
        },
        (n, PhpValue::Str(s)) => match numeric_str(s) {
            Some(m) => num_cmp(scalar_num(n)?, m),
            None => Some(n.scalar_text()?.as_bytes().cmp(s.as_bytes())),
        },
        _ => num_cmp(scalar_num(a)?, scalar_num(b)?),
    }
}
