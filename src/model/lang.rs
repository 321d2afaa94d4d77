//! The language of everything a person reads.

/// The language of everything a person reads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Lang {
    #[default]
    Pt,
    En,
}
