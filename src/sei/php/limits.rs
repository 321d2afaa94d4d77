//! The bounds of the PHP reader: nesting depth, source size, number of values.

/// Deepest nesting accepted: arrays, parentheses, unary operators and calls, and each link of a
/// ternary, `?:`, `??` or subscript chain whose value is not known statically.
pub const MAX_DEPTH: usize = 64;

/// Largest text read, in bytes: real configuration files are a few kilobytes.
pub const MAX_SOURCE_BYTES: usize = 4 * 1024 * 1024;

/// Most values (literals, names, arrays…) read from one text: real files hold a few hundred.
/// Bounds the memory the value tree takes.
pub const MAX_VALUES: usize = 100_000;
