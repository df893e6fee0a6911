//! The `aca.*` checks: static, from Azure Container Apps YAML (`az containerapp show -o yaml`).

use crate::catalogue::Rule;

/// Every `aca.*` rule, in catalogue order.
pub static RULES: &[&Rule] = &[];
