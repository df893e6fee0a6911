//! The `redis.*` checks. OWNER: the redis helper.

use crate::catalogue::Rule;

/// Every `redis.*` rule, in catalogue order.
pub static RULES: &[&Rule] = &[];
