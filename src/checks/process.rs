//! Placeholder for the `process` check family; its checks are added to the catalog here.

use super::Check;
use crate::settings::Settings;
use std::sync::Arc;

/// The `process` checks of this run.
pub fn checks(_settings: &Arc<Settings>) -> Vec<Box<dyn Check>> {
    Vec::new()
}
