//! What the closed sets of names share (check kinds, target names): a type with `ALL` (every
//! value, in declaration order) and `as_str` (how it is spelled) gets, from `spelled!`, its
//! values read back from text, shown as text, and all its spellings listed in that order.

/// Implements `parse`, `NAMES` and `Display` for an enum that has `ALL` and `as_str`.
macro_rules! spelled {
    ($ty:ident) => {
        impl $ty {
            /// Every spelling, in declaration order.
            pub const NAMES: [&'static str; $ty::ALL.len()] = {
                let mut names = [""; $ty::ALL.len()];
                let mut i = 0;
                while i < names.len() {
                    names[i] = $ty::ALL[i].as_str();
                    i += 1;
                }
                names
            };

            /// The value spelled `name` (exact spelling).
            pub fn parse(name: &str) -> Option<$ty> {
                $ty::ALL.into_iter().find(|v| v.as_str() == name)
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

pub(crate) use spelled;
