//! The `proxy.*` checks: the reverse proxy in front of the app (nginx, Caddy, HAProxy,
//! Traefik), read from its configuration files.

use crate::catalogue::Rule;

/// Every `proxy.*` rule, in catalogue order.
pub static RULES: &[&Rule] = &[];
