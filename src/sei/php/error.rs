//! Why a PHP configuration file could not be read: the line and a typed problem, said in
//! words where the report is made (never quoting the source, which may hold a password).

use std::fmt;

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
