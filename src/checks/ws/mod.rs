//! The `ws.*` checks. OWNER: the ws helper.

use crate::catalogue::Rule;

/// Every `ws.*` rule, in catalogue order.
pub static RULES: &[&Rule] = &[];
