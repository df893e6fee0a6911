//! The .env parser and `${VAR}` interpolation checked against the shared corpora
//! (`../shared/corpora/dotenv`, see its README): compose-go's own fixtures and test cases,
//! compose-go's output on real env files, and python-dotenv's cases (the parser Open WebUI
//! and Chainlit use), where its semantics agree with compose.
//!
//! Where the corpus is missing: a loud `SKIPPED` line, or a failure when `CI` is set.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use serde_json::Value;
use wsdoctor::config::interpolate::{InterpolationError, interpolate};

/// The corpora directory: `$WSDOCTOR_CORPORA`, else `../shared/corpora` beside the crate.
fn corpora() -> Option<PathBuf> {
    let dir = std::env::var_os("WSDOCTOR_CORPORA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpora"));
    dir.join("dotenv").is_dir().then_some(dir)
}

/// The corpus's dotenv folder, or None after a loud skip (a failure under CI).
fn dotenv_dir(test: &str) -> Option<PathBuf> {
    match corpora() {
        Some(dir) => Some(dir.join("dotenv")),
        None => {
            let reason = "corpus not found: set WSDOCTOR_CORPORA or put it at ../shared/corpora";
            if std::env::var_os("CI").is_some() {
                panic!("{test}: {reason}");
            }
            eprintln!("SKIPPED {test}: {reason}");
            None
        }
    }
}

fn read_json(path: &std::path::Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("bad JSON in {}: {e}", path.display()))
}

fn string_map(v: Option<&Value>) -> HashMap<String, String> {
    v.and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// compose's message for an interpolation error, to compare with `error_contains`.
fn compose_message(e: &InterpolationError) -> String {
    e.to_string()
}

#[test]
fn compose_go_interpolation_cases() {
    let Some(dir) = dotenv_dir("compose_go_interpolation_cases") else {
        return;
    };
    let cases =
        read_json(&dir.join("compose-go-cases/compose-go__template__interpolation-cases.json"));
    let cases = cases.as_array().expect("a JSON list");
    assert!(
        cases.len() >= 100,
        "expected the 114 cases, found {}",
        cases.len()
    );
    let mut failures = Vec::new();
    for case in cases {
        let template = case["template"].as_str().expect("template");
        let env = string_map(case.get("env"));
        let got = interpolate(template, &|k| env.get(k).cloned());
        let source = case["source"].as_str().unwrap_or("?");
        if case.get("error").and_then(Value::as_bool) == Some(true) {
            let contains = case["error_contains"].as_str().unwrap_or("");
            match &got {
                Err(e) if compose_message(e).contains(contains) => {}
                other => failures.push(format!(
                    "{source}: {template:?}: expected error containing {contains:?}, got {other:?}"
                )),
            }
        } else {
            let expected = case["expected"].as_str().expect("expected");
            match &got {
                Ok(i) if i.value == expected => {}
                other => failures.push(format!(
                    "{source}: {template:?}: expected {expected:?}, got {other:?}"
                )),
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[allow(dead_code)]
fn sorted(m: HashMap<String, String>) -> BTreeMap<String, String> {
    m.into_iter().collect()
}
