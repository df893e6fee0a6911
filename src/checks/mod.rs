//! Checks: pure functions from gathered facts to [`CheckResult`](crate::report::CheckResult)s.
//! One family per source of facts; each rule is a `static Rule` beside its judging function.
//! No check does I/O and no check prints.

pub mod aca;
pub mod config;
pub mod docker;
pub mod kube;
pub mod proxy;
pub mod redis;
pub mod ws;
