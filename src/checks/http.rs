//! Placeholder for the `http` check family; its checks are added to the catalog here.

use super::Check;
use crate::settings::Settings;
use std::sync::Arc;

/// The `http` checks of this run.
pub fn checks(_settings: &Arc<Settings>) -> Vec<Box<dyn Check>> {
    Vec::new()
}
