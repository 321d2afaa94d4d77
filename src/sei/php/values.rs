//! The PHP value model of the configuration reader: literals, arrays, and — for what is not known
//! statically — constants, calls and expression trees kept by structure, so that evaluation can
//! finish them once their leaves are known. Also how values print (PHP-like source text).

use std::fmt::{self, Write as _};

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
    /// Any other expression not known statically (comparison, ternary, variable…), kept as a
    /// tree so that evaluation can fold it once its leaves are known.
    Expr(Box<Expr>),
}

/// An expression whose value is not known statically.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// `-a`, `+a`, `!a`, `~a`.
    Unary(UnaryOp, PhpValue),
    /// `a op b op c …`: binary operators of one precedence level, applied left to right
    /// (`**`, right-associative, nests instead: one operator per chain).
    Chain(PhpValue, Vec<(BinaryOp, PhpValue)>),
    /// `cond ? then : otherwise`.
    Ternary(PhpValue, PhpValue, PhpValue),
    /// `(int) a` and the other casts.
    Cast(Cast, PhpValue),
    /// `$name`.
    Var(String),
    /// `base[index]`, `base[]`.
    Index(PhpValue, Option<PhpValue>),
    /// `object->name`, `object?->name`, and method calls `object->name(args)`.
    Member { object: PhpValue, nullsafe: bool, name: String, args: Option<Vec<PhpValue>> },
}

/// A prefix operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnaryOp {
    Neg,
    Plus,
    Not,
    BitNot,
}

/// A binary operator (`.` and `??` have their own value forms: `Concat` and `Fallback`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinaryOp {
    /// `or`, `xor`, `and`: the loosest operators.
    LowOr,
    LowXor,
    LowAnd,
    Or,
    And,
    BitOr,
    BitXor,
    BitAnd,
    Eq,
    NotEq,
    Identical,
    NotIdentical,
    Spaceship,
    Lt,
    Le,
    Gt,
    Ge,
    Shl,
    Shr,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
}

/// A cast's target type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cast {
    Int,
    Bool,
    Float,
    String,
    Array,
    Object,
    Unset,
}

/// An array key. Decimal integer strings are integer keys, as in PHP (`'1'` is `1`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum PhpKey {
    Int(i64),
    Str(String),
}

impl BinaryOp {
    /// The operator of a token, if it is a binary operator this reader knows.
    pub(crate) fn from_token(text: &str) -> Option<BinaryOp> {
        Some(match text {
            "||" => BinaryOp::Or,
            "&&" => BinaryOp::And,
            "|" => BinaryOp::BitOr,
            "^" => BinaryOp::BitXor,
            "&" => BinaryOp::BitAnd,
            "==" => BinaryOp::Eq,
            "!=" | "<>" => BinaryOp::NotEq,
            "===" => BinaryOp::Identical,
            "!==" => BinaryOp::NotIdentical,
            "<=>" => BinaryOp::Spaceship,
            "<" => BinaryOp::Lt,
            "<=" => BinaryOp::Le,
            ">" => BinaryOp::Gt,
            ">=" => BinaryOp::Ge,
            "<<" => BinaryOp::Shl,
            ">>" => BinaryOp::Shr,
            "+" => BinaryOp::Add,
            "-" => BinaryOp::Sub,
            "*" => BinaryOp::Mul,
            "/" => BinaryOp::Div,
            "%" => BinaryOp::Mod,
            "**" => BinaryOp::Pow,
            _ => return None,
        })
    }

    /// The keyword operators `and`, `or`, `xor` (any case).
    pub(crate) fn from_keyword(word: &str) -> Option<BinaryOp> {
        match word.to_ascii_lowercase().as_str() {
            "and" => Some(BinaryOp::LowAnd),
            "or" => Some(BinaryOp::LowOr),
            "xor" => Some(BinaryOp::LowXor),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            BinaryOp::LowOr => "or",
            BinaryOp::LowXor => "xor",
            BinaryOp::LowAnd => "and",
            BinaryOp::Or => "||",
            BinaryOp::And => "&&",
            BinaryOp::BitOr => "|",
            BinaryOp::BitXor => "^",
            BinaryOp::BitAnd => "&",
            BinaryOp::Eq => "==",
            BinaryOp::NotEq => "!=",
            BinaryOp::Identical => "===",
            BinaryOp::NotIdentical => "!==",
            BinaryOp::Spaceship => "<=>",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::Shl => "<<",
            BinaryOp::Shr => ">>",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Mod => "%",
            BinaryOp::Pow => "**",
        }
    }

    /// Binding strength; higher binds tighter. The keyword operators share one level.
    pub(crate) fn precedence(self) -> u8 {
        match self {
            BinaryOp::LowOr | BinaryOp::LowXor | BinaryOp::LowAnd => prec::LOW,
            BinaryOp::Or => 7,
            BinaryOp::And => 8,
            BinaryOp::BitOr => 9,
            BinaryOp::BitXor => 10,
            BinaryOp::BitAnd => 11,
            BinaryOp::Eq | BinaryOp::NotEq | BinaryOp::Identical | BinaryOp::NotIdentical | BinaryOp::Spaceship => 12,
            BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge => 13,
            BinaryOp::Shl | BinaryOp::Shr => 15,
            BinaryOp::Add | BinaryOp::Sub => 16,
            BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod => 17,
            BinaryOp::Pow => prec::POW,
        }
    }

    pub(crate) fn right_associative(self) -> bool {
        self == BinaryOp::Pow
    }
}

/// Precedence levels of the forms that are not binary operators.
pub(crate) mod prec {
    pub const LOW: u8 = 2;
    pub const TERNARY: u8 = 5;
    pub const COALESCE: u8 = 6;
    pub const CONCAT: u8 = 14;
    pub const UNARY: u8 = 18;
    pub const POW: u8 = 19;
    pub const POSTFIX: u8 = 21;
    pub const ATOM: u8 = 100;
}

impl UnaryOp {
    pub fn as_str(self) -> &'static str {
        match self {
            UnaryOp::Neg => "-",
            UnaryOp::Plus => "+",
            UnaryOp::Not => "!",
            UnaryOp::BitNot => "~",
        }
    }
}

impl Cast {
    /// The cast of a type name written in `( … )`, any case.
    pub(crate) fn from_name(name: &str) -> Option<Cast> {
        Some(match name.to_ascii_lowercase().as_str() {
            "int" | "integer" => Cast::Int,
            "bool" | "boolean" => Cast::Bool,
            "float" | "double" | "real" => Cast::Float,
            "string" | "binary" => Cast::String,
            "array" => Cast::Array,
            "object" => Cast::Object,
            "unset" => Cast::Unset,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Cast::Int => "int",
            Cast::Bool => "bool",
            Cast::Float => "float",
            Cast::String => "string",
            Cast::Array => "array",
            Cast::Object => "object",
            Cast::Unset => "unset",
        }
    }
}

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
        self.get_key(&PhpKey::from_text(key))
    }

    /// The value under `key` of an array (`None` for other values).
    pub fn get_key(&self, wanted: &PhpKey) -> Option<&PhpValue> {
        let PhpValue::Array(entries) = self else { return None };
        entries.iter().find(|(k, _)| k == wanted).map(|(_, v)| v)
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

    /// Binding strength of the value's outermost form, to know when printing needs parentheses.
    fn precedence(&self) -> u8 {
        match self {
            PhpValue::Concat(_) => prec::CONCAT,
            PhpValue::Fallback { elvis: true, .. } => prec::TERNARY,
            PhpValue::Fallback { elvis: false, .. } => prec::COALESCE,
            PhpValue::Int(i) if *i < 0 => prec::UNARY,
            PhpValue::Float(x) if x.is_sign_negative() => prec::UNARY,
            PhpValue::Expr(e) => match &**e {
                Expr::Unary(..) | Expr::Cast(..) => prec::UNARY,
                Expr::Chain(_, rest) => rest.first().map_or(prec::ATOM, |(op, _)| op.precedence()),
                Expr::Ternary(..) => prec::TERNARY,
                Expr::Var(_) => prec::ATOM,
                Expr::Index(..) | Expr::Member { .. } => prec::POSTFIX,
            },
            _ => prec::ATOM,
        }
    }
}

/// A float as PHP prints it in a string context (close enough for configuration values).
pub(crate) fn float_text(f: f64) -> String {
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

/// Writes `v`, in parentheses when it binds looser than `min`.
fn operand(f: &mut fmt::Formatter<'_>, v: &PhpValue, min: u8) -> fmt::Result {
    if v.precedence() < min {
        write!(f, "({v})")
    } else {
        write!(f, "{v}")
    }
}

fn list(f: &mut fmt::Formatter<'_>, items: &[PhpValue]) -> fmt::Result {
    for (i, a) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{a}")?;
    }
    Ok(())
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
                    operand(f, p, prec::CONCAT + 1)?;
                }
                Ok(())
            }
            PhpValue::Call(name, args) => {
                write!(f, "{name}(")?;
                list(f, args)?;
                f.write_str(")")
            }
            PhpValue::Fallback { value, default, elvis: true } => {
                operand(f, value, prec::TERNARY)?;
                f.write_str(" ?: ")?;
                operand(f, default, prec::TERNARY + 1)
            }
            PhpValue::Fallback { value, default, elvis: false } => {
                operand(f, value, prec::COALESCE + 1)?;
                f.write_str(" ?? ")?;
                operand(f, default, prec::COALESCE)
            }
            PhpValue::Expr(e) => write!(f, "{e}"),
        }
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Unary(op, v) => {
                f.write_str(op.as_str())?;
                operand(f, v, prec::UNARY)
            }
            Expr::Chain(first, rest) => {
                let p = rest.first().map_or(prec::ATOM, |(op, _)| op.precedence());
                let right = rest.first().is_some_and(|(op, _)| op.right_associative());
                operand(f, first, if right { p + 1 } else { p })?;
                for (op, v) in rest {
                    write!(f, " {} ", op.as_str())?;
                    operand(f, v, if right { p } else { p + 1 })?;
                }
                Ok(())
            }
            Expr::Ternary(cond, then, otherwise) => {
                operand(f, cond, prec::TERNARY + 1)?;
                f.write_str(" ? ")?;
                write!(f, "{then}")?;
                f.write_str(" : ")?;
                operand(f, otherwise, prec::TERNARY + 1)
            }
            Expr::Cast(c, v) => {
                write!(f, "({})", c.as_str())?;
                operand(f, v, prec::UNARY)
            }
            Expr::Var(name) => write!(f, "${name}"),
            Expr::Index(base, index) => {
                operand(f, base, prec::POSTFIX)?;
                f.write_char('[')?;
                if let Some(i) = index {
                    write!(f, "{i}")?;
                }
                f.write_char(']')
            }
            Expr::Member { object, nullsafe, name, args } => {
                operand(f, object, prec::POSTFIX)?;
                f.write_str(if *nullsafe { "?->" } else { "->" })?;
                f.write_str(name)?;
                if let Some(args) = args {
                    f.write_char('(')?;
                    list(f, args)?;
                    f.write_char(')')?;
                }
                Ok(())
            }
        }
    }
}
