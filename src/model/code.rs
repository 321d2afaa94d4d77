//! The finding codes of the knowledge base (`checks/codes/*.toml`) as a type: [`Code`] values
//! exist only as the constants generated at build time (`build.rs`) and as what [`parse`] finds
//! among them, so a finding cannot carry a code the knowledge base does not declare. Codes that
//! come from data (the SEI log classes) go through [`parse`].

use std::fmt;

/// A finding code the knowledge base declares. Reads, prints and serialises as its name.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Code(&'static str);

impl Code {
    /// The code's name, as the knowledge base and the report write it.
    pub const fn as_str(self) -> &'static str {
        self.0
    }
}

/// The declared code of that name, if the knowledge base has one.
pub fn parse(name: &str) -> Option<Code> {
    ALL.iter().copied().find(|c| c.0 == name)
}

impl fmt::Display for Code {
    /// As `str` prints: width and alignment (`{:<38}`) apply.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.0)
    }
}

impl fmt::Debug for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.0, f)
    }
}

impl std::ops::Deref for Code {
    type Target = str;
    fn deref(&self) -> &str {
        self.0
    }
}

impl AsRef<str> for Code {
    fn as_ref(&self) -> &str {
        self.0
    }
}

impl std::borrow::Borrow<str> for Code {
    fn borrow(&self) -> &str {
        self.0
    }
}

impl PartialEq<str> for Code {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for Code {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl PartialEq<String> for Code {
    fn eq(&self, other: &String) -> bool {
        self.0 == other.as_str()
    }
}

impl PartialEq<Code> for &str {
    fn eq(&self, other: &Code) -> bool {
        *self == other.0
    }
}

impl PartialEq<Code> for str {
    fn eq(&self, other: &Code) -> bool {
        self == other.0
    }
}

impl PartialEq<Code> for String {
    fn eq(&self, other: &Code) -> bool {
        self.as_str() == other.0
    }
}

impl From<Code> for String {
    fn from(code: Code) -> String {
        code.0.to_string()
    }
}

impl serde::Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0)
    }
}

include!(concat!(env!("OUT_DIR"), "/codes.rs"));

#[cfg(test)]
mod tests {
    use super::{parse, Code, ALL};
    use std::collections::BTreeSet;
    use std::path::Path;

    /// The code of every `.rs` under `src/`, without its tests (a `#[cfg(test)]` module, a
    /// `tests.rs`) and without this file: what the program itself can emit.
    fn production(dir: &Path, out: &mut String) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                production(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs")
                && !p.ends_with("tests.rs")
                && !p.ends_with("model/code.rs")
            {
                let text = std::fs::read_to_string(&p).unwrap_or_default();
                out.push_str(text.split("#[cfg(test)]\nmod tests").next().unwrap_or_default());
            }
        }
    }

    /// Every name written as `code::NAME` in `text`.
    fn named(text: &str) -> BTreeSet<&str> {
        text.match_indices("code::")
            .map(|(i, m)| {
                let rest = &text[i + m.len()..];
                let end = rest.find(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'));
                &rest[..end.unwrap_or(rest.len())]
            })
            .filter(|n| !n.is_empty())
            .collect()
    }

    #[test]
    fn every_declared_code_is_emitted_somewhere() {
        let mut text = String::new();
        production(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut text);
        let mut emitted: BTreeSet<&str> = named(&text);
        // Codes that come from data: the SEI log classes' rules.
        emitted.extend(crate::logclass::table().rules.iter().map(|r| r.code.as_str()));
        let never: Vec<Code> = ALL.iter().copied().filter(|c| !emitted.contains(c.as_str())).collect();
        assert!(never.is_empty(), "declared in checks/codes but never emitted: {never:?}");
    }

    #[test]
    fn a_code_is_found_only_among_the_declared() {
        for c in ALL {
            assert_eq!(parse(c.as_str()), Some(*c));
        }
        assert_eq!(parse("NO_SUCH_CODE"), None);
        assert_eq!(parse("tcp_refused"), None);
        assert_eq!(parse(""), None);
    }

    #[test]
    fn a_code_reads_and_serialises_as_its_name() {
        let c = super::TCP_REFUSED;
        assert_eq!(c.to_string(), "TCP_REFUSED");
        assert_eq!(format!("[{c:<13}]"), "[TCP_REFUSED  ]");
        assert_eq!(format!("{c:?}"), "\"TCP_REFUSED\"");
        assert_eq!(serde_json::to_string(&c).unwrap_or_default(), "\"TCP_REFUSED\"");
        assert!(c == "TCP_REFUSED");
        assert!("TCP_REFUSED" == c);
        assert!(c != "TCP_TIMEOUT");
    }

    #[test]
    fn every_code_of_the_log_classes_is_declared() {
        // The table is data: each rule's code goes through `parse` when it is read, so an
        // undeclared one is refused there; this reads the file itself, so no rule is missed.
        let text = include_str!("../../checks/log_classes.toml");
        let written: Vec<&str> =
            text.lines().filter_map(|l| l.trim().strip_prefix("code = \"").and_then(|r| r.strip_suffix('"'))).collect();
        assert!(!written.is_empty());
        for name in written {
            assert!(parse(name).is_some(), "checks/log_classes.toml: {name} is not a declared code");
        }
        assert!(!crate::logclass::table().rules.is_empty());
    }
}
