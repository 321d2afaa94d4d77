//! Placeholder for the `client_cert` check family; its checks are added to the catalog here.

use super::Check;
use crate::settings::Settings;
use std::sync::Arc;

/// The `client_cert` checks of this run.
pub fn checks(_settings: &Arc<Settings>) -> Vec<Box<dyn Check>> {
    Vec::new()
}
