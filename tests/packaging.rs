//! The files that install and run wsdoctor elsewhere: action.yml (a composite GitHub Action),
//! .pre-commit-hooks.yaml and pyproject.toml. The Action cannot run here (it needs a GitHub
//! runner and the code scanning API), so its structure is checked against the fields GitHub
//! documents, and its shell steps are run by bash through the real binary the way the runner
//! runs them (inputs through `env:`, GITHUB_OUTPUT a file). The wheel and the pre-commit hook
//! run for real in scripts/package-test.sh.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn yaml(name: &str) -> Value {
    let text = std::fs::read_to_string(root().join(name)).unwrap();
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object()
        .unwrap_or_else(|| panic!("not a mapping: {v}"))
        .keys()
        .cloned()
        .collect()
}

fn assert_keys_within(what: &str, v: &Value, allowed: &[&str]) {
    let extra: Vec<String> = keys(v)
        .into_iter()
        .filter(|k| !allowed.contains(&k.as_str()))
        .collect();
    assert!(extra.is_empty(), "{what}: undocumented keys {extra:?}");
}

/// `${{ <prefix>NAME` references in a string, NAME up to the first char not in [A-Za-z0-9_-].
fn references<'a>(text: &'a str, prefix: &str) -> Vec<&'a str> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find(prefix) {
        let after = &rest[i + prefix.len()..];
        let end = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            .unwrap_or(after.len());
        found.push(&after[..end]);
        rest = &after[end..];
    }
    found
}

// Fields from GitHub's "Metadata syntax reference" (docs.github.com, actions/reference/
// workflows-and-actions/metadata-syntax), read 2026-11-29: the top level, `inputs.<id>`,
// `outputs.<id>` of composite actions (description and value both required), `runs` for
// composite actions, and `runs.steps[*]` (a `run` step needs `shell`; a `uses` step takes `with`).
const TOP: &[&str] = &[
    "name",
    "author",
    "description",
    "inputs",
    "outputs",
    "runs",
    "branding",
];
const INPUT: &[&str] = &["description", "required", "default", "deprecationMessage"];
const COMPOSITE_OUTPUT: &[&str] = &["description", "value"];
const RUN_STEP: &[&str] = &[
    "run",
    "shell",
    "name",
    "id",
    "if",
    "env",
    "working-directory",
    "continue-on-error",
];
const USES_STEP: &[&str] = &[
    "uses",
    "with",
    "name",
    "id",
    "if",
    "env",
    "continue-on-error",
];
const BRANDING_COLORS: &[&str] = &[
    "white",
    "black",
    "yellow",
    "blue",
    "green",
    "orange",
    "red",
    "purple",
    "gray-dark",
];

#[test]
fn action_yml_uses_only_the_documented_fields_of_a_composite_action() {
    let action = yaml("action.yml");
    assert_keys_within("action.yml", &action, TOP);
    for required in ["name", "description", "runs"] {
        assert!(
            action[required].is_string() || action[required].is_object(),
            "{required}"
        );
    }

    let inputs = action["inputs"].as_object().unwrap();
    for (id, input) in inputs {
        assert_keys_within(&format!("inputs.{id}"), input, INPUT);
        assert!(
            input["description"].is_string(),
            "inputs.{id}.description is required"
        );
        // GitHub passes every input as a string: a default that YAML reads as a bool or a
        // number would still work, but says something else than it does.
        if let Some(d) = input.get("default") {
            assert!(d.is_string(), "inputs.{id}.default should be a string: {d}");
        }
    }
    for documented in ["project-dir", "args", "upload"] {
        assert!(inputs.contains_key(documented), "input {documented}");
    }

    let runs = &action["runs"];
    assert_keys_within("runs", runs, &["using", "steps"]);
    assert_eq!(runs["using"], "composite");
    let steps = runs["steps"].as_array().unwrap();
    assert!(!steps.is_empty());

    let mut step_ids: Vec<String> = Vec::new();
    for (i, step) in steps.iter().enumerate() {
        let what = format!("runs.steps[{i}]");
        let text = serde_json::to_string(step).unwrap();
        if step.get("run").is_some() {
            assert_keys_within(&what, step, RUN_STEP);
            assert!(step["shell"].is_string(), "{what}: a run step needs shell");
            // Inputs reach the scripts through env only, never spliced into the script.
            assert!(
                !step["run"].as_str().unwrap().contains("${{"),
                "{what}: an expression inside run: pass it through env"
            );
        } else {
            assert_keys_within(&what, step, USES_STEP);
            let uses = step["uses"].as_str().unwrap();
            assert!(uses.contains('@'), "{what}: uses pins a ref: {uses}");
        }
        // Every expression names a declared input or an earlier step.
        for input in references(&text, "inputs.") {
            assert!(inputs.contains_key(input), "{what}: unknown input {input}");
        }
        for id in references(&text, "steps.") {
            assert!(
                step_ids.iter().any(|s| s == id),
                "{what}: steps.{id} is not an earlier step"
            );
        }
        if let Some(id) = step["id"].as_str() {
            assert!(!step_ids.iter().any(|s| s == id), "duplicate step id {id}");
            step_ids.push(id.to_string());
        }
    }

    let outputs = action["outputs"].as_object().unwrap();
    for (id, output) in outputs {
        assert_keys_within(&format!("outputs.{id}"), output, COMPOSITE_OUTPUT);
        assert!(
            output["description"].is_string(),
            "outputs.{id}.description"
        );
        let value = output["value"]
            .as_str()
            .expect("a composite output needs value");
        for step in references(value, "steps.") {
            assert!(
                step_ids.iter().any(|s| s == step),
                "outputs.{id}: no step {step}"
            );
        }
    }

    let upload = steps
        .iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("github/codeql-action/upload-sarif@"))
        })
        .expect("a step uploads the SARIF with github/codeql-action/upload-sarif");
    assert!(upload["with"]["sarif_file"].is_string());
    assert!(upload["if"].as_str().unwrap().contains("inputs.upload"));

    assert_keys_within("branding", &action["branding"], &["icon", "color"]);
    let color = action["branding"]["color"].as_str().unwrap();
    assert!(BRANDING_COLORS.contains(&color), "branding.color {color}");
}

/// Runs the run step named `name` of action.yml with bash as the runner does: its `env:` with
/// each `${{ inputs.X }}` replaced by `inputs[X]` (or the input's default), each
/// `${{ steps.… }}` by `step_values`, wsdoctor (this build) first on PATH.
struct StepRun {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    github_output: BTreeMap<String, String>,
}

fn run_step(
    name: &str,
    inputs: &[(&str, &str)],
    step_values: &[(&str, &str)],
    cwd: &Path,
) -> StepRun {
    let action = yaml("action.yml");
    let step = action["runs"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no step {name}"));
    assert_eq!(step["shell"], "bash");
    let declared = action["inputs"].as_object().unwrap();
    let github_output = cwd.join("github-output");
    std::fs::write(&github_output, "").unwrap();
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_wsdoctor")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = Command::new("bash");
    // The runner's bash invocation for `shell: bash`: bash --noprofile --norc -eo pipefail {0}.
    cmd.args(["--noprofile", "--norc", "-eo", "pipefail", "-c"])
        .arg(step["run"].as_str().unwrap())
        .current_dir(cwd)
        .env("PATH", path)
        .env("GITHUB_OUTPUT", &github_output)
        .env("RUNNER_TEMP", cwd)
        .env("GITHUB_ACTION_PATH", root())
        .env_remove("REDIS_PASSWORD");
    for (var, expr) in step["env"].as_object().into_iter().flatten() {
        let expr = expr.as_str().unwrap();
        let value = if let Some(input) = references(expr, "inputs.").first() {
            inputs
                .iter()
                .find(|(k, _)| k == input)
                .map(|(_, v)| v.to_string())
                .unwrap_or_else(|| declared[*input]["default"].as_str().unwrap().to_string())
        } else if let Some(step_id) = references(expr, "steps.").first() {
            let output = expr.rsplit("outputs.").next().unwrap();
            let output = output.trim_end_matches(['}', ' ']);
            step_values
                .iter()
                .find(|(k, _)| *k == format!("{step_id}.{output}"))
                .map(|(_, v)| v.to_string())
                .unwrap_or_else(|| panic!("no value for {expr}"))
        } else {
            panic!("unexpected env expression {expr}");
        };
        cmd.env(var, value);
    }
    let out = cmd.output().unwrap();
    let written = std::fs::read_to_string(&github_output).unwrap();
    StepRun {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).to_string(),
        stderr: String::from_utf8_lossy(&out.stderr).to_string(),
        github_output: written
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}

fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let deploy = dir.path().join("deploy");
    std::fs::create_dir(&deploy).unwrap();
    let seed = root().join("fixtures/seed-wrong-host/docker-compose.yml");
    std::fs::copy(seed, deploy.join("docker-compose.yml")).unwrap();
    dir
}

#[test]
fn the_action_lint_step_writes_sarif_and_defers_a_failing_check_to_the_last_step() {
    let ws = workspace();
    let lint = run_step(
        "wsdoctor lint",
        &[("project-dir", "deploy")],
        &[],
        ws.path(),
    );
    // A failing check: the step itself passes so that the upload step runs.
    assert_eq!(lint.code, Some(0), "{}{}", lint.stdout, lint.stderr);
    assert_eq!(lint.github_output["exit-code"], "1");
    assert_eq!(lint.github_output["sarif-file"], "wsdoctor.sarif");
    assert!(
        lint.stdout
            .starts_with(&format!("wsdoctor {}", env!("CARGO_PKG_VERSION")))
    );
    assert!(
        lint.stdout.contains("::error file=") && lint.stdout.contains("config.redis-url-host"),
        "annotations on stdout: {}",
        lint.stdout
    );
    let sarif: Value =
        serde_json::from_str(&std::fs::read_to_string(ws.path().join("wsdoctor.sarif")).unwrap())
            .unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert!(
        results
            .iter()
            .any(|r| r["ruleId"] == "config.redis-url-host" && r["level"] == "error"),
        "{results:?}"
    );

    // The last step turns the deferred exit code into the job's failure.
    let last = run_step(
        "Fail when a check failed",
        &[],
        &[("lint.exit-code", &lint.github_output["exit-code"])],
        ws.path(),
    );
    assert_eq!(last.code, Some(1));
}

#[test]
fn the_action_args_input_is_split_like_a_shell_and_never_evaluated() {
    let ws = workspace();
    // Quoted words reach wsdoctor as words; `$(…)` is not run.
    let lint = run_step(
        "wsdoctor lint",
        &[
            ("project-dir", "deploy"),
            ("args", "--ignore 'config.redis-url-host' --timeout \"2s\""),
        ],
        &[],
        ws.path(),
    );
    assert_eq!(lint.code, Some(0), "{}{}", lint.stdout, lint.stderr);
    assert_eq!(lint.github_output["exit-code"], "0", "{}", lint.stdout);

    let marker = ws.path().join("evaluated");
    let lint = run_step(
        "wsdoctor lint",
        &[
            ("project-dir", "deploy"),
            (
                "args",
                &format!("--ignore \"$(touch {})\"", marker.display()),
            ),
        ],
        &[],
        ws.path(),
    );
    assert!(!marker.exists(), "args were evaluated by the shell");
    assert!(lint.github_output.contains_key("exit-code"));

    // An unmatched quote in args fails the step before wsdoctor runs.
    let lint = run_step(
        "wsdoctor lint",
        &[
            ("project-dir", "deploy"),
            ("args", "--ignore 'config.redis-url-host"),
        ],
        &[],
        ws.path(),
    );
    assert_ne!(lint.code, Some(0), "{}{}", lint.stdout, lint.stderr);
    assert!(!lint.github_output.contains_key("exit-code"));

    // A usage error (2) fails the lint step at once: there may be no report to upload.
    let lint = run_step(
        "wsdoctor lint",
        &[("project-dir", "deploy"), ("args", "--no-such-option")],
        &[],
        ws.path(),
    );
    assert_eq!(lint.code, Some(2), "{}{}", lint.stdout, lint.stderr);
    assert_eq!(lint.github_output["exit-code"], "2");
}

#[test]
fn the_action_install_step_refuses_an_unknown_method() {
    let ws = workspace();
    let none = run_step("Install wsdoctor", &[("install", "none")], &[], ws.path());
    assert_eq!(none.code, Some(0), "{}", none.stderr);
    let bad = run_step("Install wsdoctor", &[("install", "brew")], &[], ws.path());
    assert_eq!(bad.code, Some(2));
    assert!(
        bad.stdout
            .contains("::error::install must be pip, cargo or none")
    );
}

#[test]
fn the_pre_commit_hook_lints_the_project_on_compose_and_env_changes() {
    let hooks = yaml(".pre-commit-hooks.yaml");
    let hooks = hooks.as_array().unwrap();
    let hook = hooks
        .iter()
        .find(|h| h["id"] == "wsdoctor-lint")
        .expect("hook wsdoctor-lint");
    // pre-commit builds the wheel (pyproject.toml) into the hook's venv.
    assert_eq!(hook["language"], "python");
    assert_eq!(hook["entry"], "wsdoctor lint");
    // lint judges a project (compose + overrides + .env), not the files pre-commit would pass.
    assert_eq!(hook["pass_filenames"], false);
    let files = hook["files"].as_str().unwrap();
    for needle in ["compose", "ya?ml", "\\.env"] {
        assert!(files.contains(needle), "files: {files}");
    }
    // The entry is a real subcommand of this build.
    let out = Command::new(env!("CARGO_BIN_EXE_wsdoctor"))
        .args(["lint", "--help"])
        .output()
        .unwrap();
    assert!(out.status.success());
}

#[test]
fn pyproject_builds_the_binary_with_maturin_at_the_cargo_version() {
    let text = std::fs::read_to_string(root().join("pyproject.toml")).unwrap();
    assert!(text.contains("requires = [\"maturin>=1,<2\"]"));
    assert!(text.contains("build-backend = \"maturin\""));
    assert!(text.contains("bindings = \"bin\""));
    // The version is Cargo.toml's, never a second copy that can drift.
    assert!(text.contains("dynamic = [\"version\"]"));
    assert!(!text.lines().any(|l| l.trim_start().starts_with("version")));
}
