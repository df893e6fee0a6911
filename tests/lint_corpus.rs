//! `lint` over the shared corpus of real compose files: no crash, and no false alarm.
//!
//! The corpus stores files flat; MANIFEST.json gives each one's repository and path, so the
//! test rebuilds every repository's tree in a temp dir and lints each compose file where it
//! really lives, next to the files it names (env_file, extends, .env). Where a project ships
//! only `.env.example` (to be copied to `.env`), the example is used as the env file, as a
//! user following the project's README would.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;
use wsdoctor::config::compose::{LoadOptions, load};
use wsdoctor::report::Status;

fn corpora() -> Option<PathBuf> {
    let dir = std::env::var_os("WSDOCTOR_CORPORA")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpora"));
    if dir.is_dir() {
        return Some(dir);
    }
    if std::env::var_os("CI").is_some() {
        panic!(
            "no corpora at {}: CI must have shared/ beside the checkout",
            dir.display()
        );
    }
    eprintln!(
        "SKIPPED lint_corpus: no corpora at {} (set WSDOCTOR_CORPORA)",
        dir.display()
    );
    None
}

/// Writes every manifest file (and its identical copies elsewhere upstream) under `root`;
/// returns the top-level compose files as (repo-relative name, path on disk).
fn rebuild(corpus: &Path, root: &Path) -> Vec<(String, PathBuf)> {
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(corpus.join("MANIFEST.json")).unwrap())
            .unwrap();
    let mut compose = Vec::new();
    for entry in manifest["files"].as_array().unwrap() {
        let file = entry["file"].as_str().unwrap();
        let bytes = std::fs::read(corpus.join(file)).unwrap();
        let mut places = vec![(
            entry["repo"].as_str().unwrap(),
            entry["path"].as_str().unwrap(),
        )];
        for other in entry["also_at_upstream"].as_array().into_iter().flatten() {
            places.push((
                other["repo"].as_str().unwrap(),
                other["path"].as_str().unwrap(),
            ));
        }
        for (i, (repo, path)) in places.iter().enumerate() {
            let dest = root.join(repo).join(path);
            std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
            std::fs::write(&dest, &bytes).unwrap();
            // compose-go-inline documents are test fragments, not deployments.
            if i == 0
                && entry["kind"] == "compose"
                && !file.starts_with("compose/compose-go-inline/")
            {
                compose.push((format!("{repo}/{path}"), dest));
            }
        }
    }
    compose.sort();
    compose
}

fn env_file_for(compose: &Path) -> Option<PathBuf> {
    let dir = compose.parent()?;
    if dir.join(".env").is_file() {
        return None; // compose finds it by itself
    }
    [".env.example", "env.example", ".env.dist", ".env.sample"]
        .iter()
        .map(|n| dir.join(n))
        .find(|p| p.is_file())
}

/// Findings on the corpus that are true, with the reason: (path prefix, check id, why).
/// Anything else that fires is a false alarm and fails the test.
const TRUE_FINDINGS: &[(&str, &str, &str)] = &[
    // Test fixtures of compose itself, invalid or incomplete on purpose.
    (
        "compose-spec/compose-go/",
        "config.compose-syntax",
        "compose-go loader tests: an empty file, a null service, `remote:` resources only its test loader serves",
    ),
    (
        "compose-spec/compose-go/",
        "config.interpolation-unset",
        "compose-go tests set these variables in the test's environment",
    ),
    (
        "compose-spec/compose-go/",
        "config.env-file-missing",
        "include test: the env file is created by the test",
    ),
    (
        "compose-spec/compose-go/loader/full-example.yml",
        "config.redis-exposed-without-password",
        "the example's `foo` service runs the redis image with ports published and no password",
    ),
    (
        "docker/compose/pkg/e2e/",
        "config.interpolation-unset",
        "docker compose e2e tests export these variables before running compose",
    ),
    (
        "docker/compose/pkg/e2e/",
        "config.compose-syntax",
        "e2e fixture extends a common.yaml that the corpus did not copy",
    ),
    (
        "docker/compose/pkg/e2e/fixtures/env_file/",
        "config.env-file-missing",
        "the test asserts the error for /doesnotexist/.env",
    ),
    // Files the project's README tells the user to create before `docker compose up`.
    (
        "arc53/DocsGPT/deployment/",
        "config.env-file-missing",
        "../.env is created by DocsGPT's setup script",
    ),
    (
        "arc53/DocsGPT/deployment/optional/",
        "config.interpolation-unset",
        "SANDBOX_GATEWAY_AUTH_TOKEN is required (`:?`) and must be provided by the operator",
    ),
    (
        "getredash/redash/compose.yaml",
        "config.env-file-missing",
        ".env is created by Redash's setup",
    ),
    (
        "getredash/redash/.ci/",
        "config.interpolation-unset",
        "CI exports CODE_COVERAGE",
    ),
    (
        "jitsi/docker-jitsi-meet/rtcstats.yml",
        "config.env-file-missing",
        "rtcstats/.env files are created by the operator",
    ),
    (
        "paperless-ngx/paperless-ngx/docker/compose/docker-compose.portainer.yml",
        "config.env-file-missing",
        "stack.env is written by Portainer",
    ),
    (
        "penpot/penpot/docker/devenv/",
        "config.interpolation-unset",
        "penpot's devenv script exports these variables",
    ),
    (
        "sameersbn/docker-gitlab/docker-compose.swarm.yml",
        "config.interpolation-unset",
        "`${GITLAB_HOST:?}`: the swarm stack requires them from the deploying shell",
    ),
    (
        "langfuse/langfuse/docker-compose.build.yml",
        "config.interpolation-unset",
        "a build argument the operator provides",
    ),
    (
        "FlowiseAI/Flowise/metrics/otel/compose.yaml",
        "config.interpolation-unset",
        "OTELCOL_ARGS is provided by the operator",
    ),
    // Redis published on every interface without a password: true, and worth a warning.
    (
        "FlowiseAI/Flowise/docker/docker-compose-queue-",
        "config.redis-exposed-without-password",
        "publishes 6379:6379, no --requirepass",
    ),
    (
        "appwrite/appwrite/docker-compose.override.yml",
        "config.redis-exposed-without-password",
        "publishes 9513:6379 for development, no password",
    ),
    (
        "arc53/DocsGPT/",
        "config.redis-exposed-without-password",
        "dev and deployment files publish 6379:6379, no password",
    ),
    (
        "langfuse/langfuse/docker-compose.",
        "config.redis-exposed-without-password",
        "build/dev files publish 6379:6379, no password",
    ),
    (
        "socketio/",
        "config.redis-exposed-without-password",
        "examples and test setups publish 6379:6379, no password",
    ),
];

#[test]
fn every_corpus_compose_file_lints_without_false_alarms() {
    let Some(corpus) = corpora() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let files = rebuild(&corpus, tmp.path());
    assert!(
        files.len() >= 290,
        "expected the corpus' ~297 compose files, found {}",
        files.len()
    );
    let mut refused = Vec::new();
    let mut fired: BTreeMap<(String, &'static str), Vec<String>> = BTreeMap::new();
    let mut counts: BTreeMap<&'static str, usize> = BTreeMap::new();
    for (name, path) in &files {
        let opts = LoadOptions {
            project_dir: path.parent().unwrap().to_path_buf(),
            files: vec![path.clone()],
            env_file: env_file_for(path),
            process_env: Default::default(),
        };
        let d = match load(&opts) {
            Ok(d) => d,
            Err(e) => {
                refused.push(format!("{name}: {e}"));
                continue;
            }
        };
        for r in wsdoctor::checks::config::run(&d, None) {
            if matches!(r.status, Status::Warn | Status::Fail) {
                *counts.entry(r.id).or_default() += 1;
                fired.entry((name.clone(), r.id)).or_default().push(format!(
                    "{} {}",
                    r.status.as_str(),
                    r.message
                ));
            }
        }
    }
    eprintln!(
        "lint corpus: {} files, {} refused, findings by check: {counts:?}",
        files.len(),
        refused.len()
    );
    for r in &refused {
        eprintln!("  refused {r}");
    }
    let mut unexplained = Vec::new();
    for ((file, id), messages) in &fired {
        let known = TRUE_FINDINGS
            .iter()
            .any(|(prefix, i, _)| file.starts_with(prefix) && i == id);
        for m in messages {
            eprintln!(
                "  {}\t{file}\t{id}\t{m}",
                if known { "true " } else { "FALSE" }
            );
        }
        if !known {
            unexplained.push(format!("{file} {id}: {}", messages.join(" | ")));
        }
    }
    assert!(
        unexplained.is_empty(),
        "{} unexplained findings:\n{}",
        unexplained.len(),
        unexplained.join("\n")
    );
}
