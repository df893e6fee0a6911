//! The `docker.*` checks. OWNER: the docker helper.

use crate::catalogue::Rule;

/// Every `docker.*` rule, in catalogue order.
pub static RULES: &[&Rule] = &[];
