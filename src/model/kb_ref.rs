//! Where a reported finding points in the knowledge base: article, cause, title, address.

use serde::{Deserialize, Serialize};

/// The KB reference of a rendered finding (SPEC §6 `kb`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct KbRef {
    pub article: String,
    pub cause: Option<u32>,
    pub title: String,
    pub url: String,
}
