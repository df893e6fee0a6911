//! Probes: gather facts from live servers (I/O, async, every step under a deadline). A probe
//! returns observations; it never judges them (that is `checks/`).

pub mod budget;
pub mod docker;
pub mod engineio;
pub mod redis;
pub mod swarm;
