//! A generic YAML tree with the line and column of every key and value.
//! OWNER: helper B (compose loader).
