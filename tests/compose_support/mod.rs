//! The shared compose corpus (`/work/shared/corpora`, see its README): where it is, which
//! files it holds, and what PyYAML made of each (MANIFEST.json `yaml_parse`).

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use wsdoctor::commands::CliError;
use wsdoctor::config::Deployment;
use wsdoctor::config::compose::{LoadOptions, load};

/// `$WSDOCTOR_CORPORA`, else `$CARGO_MANIFEST_DIR/../shared/corpora`; None when absent.
pub fn corpora_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("WSDOCTOR_CORPORA")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpora"));
    dir.join("compose").is_dir().then_some(dir)
}

/// Skips loudly, or fails under CI (where the corpus must be present).
pub fn corpora_or_skip(test: &str) -> Option<PathBuf> {
    match corpora_dir() {
        Some(d) => Some(d),
        None if std::env::var_os("CI").is_some() => {
            panic!(
                "{test}: the corpus is missing (set WSDOCTOR_CORPORA or check out ../shared/corpora)"
            )
        }
        None => {
            eprintln!("SKIPPED {test}: no corpus at $WSDOCTOR_CORPORA or ../shared/corpora");
            None
        }
    }
}

/// Every `*.yaml` / `*.yml` under `compose/` (inline test documents included), sorted.
pub fn compose_files(corpora: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![corpora.join("compose")];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if matches!(p.extension().and_then(|x| x.to_str()), Some("yaml" | "yml")) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// MANIFEST.json: corpus-relative file → PyYAML's verdict (`ok`, `ok once the compose tags
/// !reset/!override are accepted`, `error`).
pub fn yaml_verdicts(corpora: &Path) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(corpora.join("MANIFEST.json")).expect("MANIFEST.json");
    let json: serde_json::Value = serde_json::from_str(&text).expect("MANIFEST.json is JSON");
    let mut out = BTreeMap::new();
    for f in json["files"].as_array().into_iter().flatten() {
        if let (Some(file), Some(verdict)) = (f["file"].as_str(), f["yaml_parse"].as_str()) {
            out.insert(file.to_string(), verdict.to_string());
        }
    }
    out
}

/// Loads one corpus file as `docker compose -f FILE` from its own directory, with an empty
/// process environment.
pub fn load_file(path: &Path) -> Result<Deployment, CliError> {
    let dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
    load(&LoadOptions {
        project_dir: dir,
        files: vec![path.to_path_buf()],
        env_file: None,
        process_env: BTreeMap::new(),
    })
}

/// Rebuilds the upstream directory trees (`<root>/<owner>/<repo>/<path>`) from MANIFEST.json,
/// so `extends.file`, `include` and `env_file` find their targets where the corpus has them.
/// Returns (corpus-relative file, its path in the rebuilt tree) for every compose file.
pub fn rebuild_trees(corpora: &Path, root: &Path) -> Vec<(String, PathBuf)> {
    let text = std::fs::read_to_string(corpora.join("MANIFEST.json")).expect("MANIFEST.json");
    let json: serde_json::Value = serde_json::from_str(&text).expect("MANIFEST.json is JSON");
    let mut compose = Vec::new();
    for f in json["files"].as_array().into_iter().flatten() {
        let (Some(file), Some(repo), Some(path), Some(kind)) = (
            f["file"].as_str(),
            f["repo"].as_str(),
            f["path"].as_str(),
            f["kind"].as_str(),
        ) else {
            continue;
        };
        if kind.contains("inline") || !(kind == "compose" || kind == "dotenv") {
            continue;
        }
        let target = root.join(repo).join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::copy(corpora.join(file), &target).expect("copy corpus file");
        if kind == "compose" {
            compose.push((file.to_string(), target));
        }
    }
    compose
}
