//! wsdoctor: a doctor for Socket.IO / WebSocket deployments that use Redis.
//!
//! Data flows one way: files and servers → facts (`config`, `probe`) → checks (pure
//! functions, `checks`) → one [`report::Report`] → a renderer per format (`report`).

pub mod apps;
pub mod catalogue;
pub mod checks;
pub mod cli;
pub mod commands;
pub mod config;
pub mod correlate;
pub mod error;
pub mod probe;
pub mod redact;
pub mod report;
pub mod settings;
pub mod targets;
