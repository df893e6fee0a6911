//! Every output format of one realistic report: snapshots, structure and validity.
//!
//! * JSON is validated against docs/report.schema.json, SARIF against the official SARIF 2.1.0
//!   schema that serde-sarif ships in its crate source (the `jsonschema` crate, draft 7 and
//!   2020-12, formats checked); each with a negative control so a validator that accepts
//!   everything would fail the test.
//! * Markdown is rendered to HTML with pulldown-cmark (GFM tables) and its structure checked,
//!   including a hostile message that tries to break out of the table and inject HTML.
//! * JUnit XML is parsed back with quick-xml.
//! * A report with secrets, once redacted, leaks none of them in any format.
//!
//! The report is built with test-local rules (the real catalogue is filled elsewhere) and
//! normalised (version, durations) so the snapshots are stable.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::{Value, json};
use wsdoctor::catalogue::{Rule, Severity};
use wsdoctor::redact::Secrets;
use wsdoctor::report::{
    CheckResult, InlineIgnore, Location, Report, Status, Suppressions, concise, github, gitlab,
    json, junit, markdown, sarif, text,
};

static REDIS_URL_HOST: Rule = Rule {
    id: "config.redis-url-host",
    severity: Severity::Error,
    title: "REDIS_URL host is a compose service",
    summary: "The host of REDIS_URL is a service, container_name or network alias of the deployment.",
    why: "Inside a compose network a container reaches another only by its service name, container_name or alias; any other name fails DNS (`Name or service not known`) and every Socket.IO worker loses its message queue.",
    fix: "Point REDIS_URL at the Redis service name, e.g. `redis://:${REDIS_PASSWORD}@beagle-redis:6379/0`.",
};
static REDIS_TIMEOUT: Rule = Rule {
    id: "config.redis-timeout",
    severity: Severity::Warning,
    title: "Redis closes idle clients",
    summary: "The Redis service's `timeout` setting.",
    why: "`timeout 0` never closes idle clients: half-open connections pile up until `maxclients` is reached.",
    fix: "Add `--timeout 1800` to the Redis command.",
};
static REDIS_URL_LOOPBACK: Rule = Rule {
    id: "config.redis-url-loopback",
    severity: Severity::Warning,
    title: "REDIS_URL does not point at localhost from a container",
    summary: "localhost inside a container is the container itself.",
    why: "A container's loopback is its own; Redis in another container is not there.",
    fix: "Use the Redis service name.",
};
static CORS_ORIGIN: Rule = Rule {
    id: "config.cors-origin",
    severity: Severity::Warning,
    title: "CORS_ALLOW_ORIGIN is not a wildcard",
    summary: "CORS_ALLOW_ORIGIN of Open WebUI.",
    why: "A `*` origin lets any site open a Socket.IO connection with the user's cookies.",
    fix: "Set CORS_ALLOW_ORIGIN to the public URL.",
};
static ENV_DUPLICATE_KEY: Rule = Rule {
    id: "config.env-duplicate-key",
    severity: Severity::Warning,
    title: "No key is set twice in a .env file",
    summary: "Duplicate keys in .env files.",
    why: "The last one wins in compose; the first is silently ignored.",
    fix: "Remove the earlier line.",
};
static WEBSOCKET_MANAGER: Rule = Rule {
    id: "config.websocket-manager",
    severity: Severity::Error,
    title: "Several workers share a Redis manager",
    summary: "WEBSOCKET_MANAGER=redis when there are several workers or replicas.",
    why: "Without a shared manager an event emitted by one worker never reaches clients of another.",
    fix: "Set WEBSOCKET_MANAGER=redis.",
};
static REDIS_CONNECT: Rule = Rule {
    id: "redis.connect",
    severity: Severity::Error,
    title: "Redis accepts a connection",
    summary: "DNS, TCP connect and the first reply.",
    why: "Nothing else works without it.",
    fix: "Start Redis or fix the host and port.",
};
static REDIS_AUTH: Rule = Rule {
    id: "redis.auth",
    severity: Severity::Error,
    title: "Redis accepts the credentials",
    summary: "AUTH with the URL's user and password.",
    why: "NOAUTH / WRONGPASS break every Socket.IO emit.",
    fix: "Use the password of the Redis service.",
};
static STICKY_SESSION: Rule = Rule {
    id: "ws.sticky-session",
    severity: Severity::Warning,
    title: "Polling requests reach the same worker",
    summary: "Repeated polling with one sid.",
    why: "`Session ID unknown` without sticky sessions.",
    fix: "Enable sticky sessions or use the websocket transport only.",
};
static ENV_DRIFT: Rule = Rule {
    id: "docker.env-drift",
    severity: Severity::Warning,
    title: "Running containers match the files",
    summary: "Environment of running containers vs the files.",
    why: "A container keeps the environment it was created with.",
    fix: "`docker compose up -d` recreates changed containers.",
};

static RULES: &[&Rule] = &[
    &REDIS_URL_HOST,
    &REDIS_TIMEOUT,
    &REDIS_URL_LOOPBACK,
    &CORS_ORIGIN,
    &ENV_DUPLICATE_KEY,
    &WEBSOCKET_MANAGER,
    &REDIS_CONNECT,
    &REDIS_AUTH,
    &STICKY_SESSION,
    &ENV_DRIFT,
];

fn at(file: &str, line: u32, column: u32) -> Option<Location> {
    Some(Location {
        file: file.to_string(),
        line: Some(line),
        column: Some(column),
    })
}

/// The results of a `diagnose` run on the seed deployment, a little of every status.
fn results() -> Vec<CheckResult> {
    vec![
        REDIS_URL_HOST
            .fire("REDIS_URL host 'redis' is not a service, container_name or alias; did you mean 'beagle-redis'?")
            .at(at("docker-compose.yml", 7, 9))
            .subject("open-webui")
            .hint("use redis://default:****@beagle-redis:6379/0")
            .evidence("host", "redis")
            .evidence("services", json!(["open-webui", "beagle-redis"]))
            .evidence("suggestion", "beagle-redis"),
        ENV_DUPLICATE_KEY.pass("no duplicate keys in .env"),
        REDIS_TIMEOUT
            .fire("beagle-redis runs with timeout 0: idle clients are never closed")
            .at(at("docker-compose.yml", 15, 14))
            .subject("beagle-redis")
            .hint("add `--timeout 1800` to the command")
            .evidence("timeout", 0),
        // Suppressed by the inline comment on .env line 3.
        REDIS_URL_LOOPBACK
            .fire("WEBSOCKET_REDIS_URL points at localhost from inside a container")
            .at(at(".env", 3, 21))
            .subject("open-webui"),
        // Suppressed by --ignore.
        CORS_ORIGIN
            .fire("CORS_ALLOW_ORIGIN is '*'")
            .at(at(".env", 5, 19)),
        WEBSOCKET_MANAGER
            .pass("WEBSOCKET_MANAGER=redis with 4 workers")
            .subject("open-webui"),
        REDIS_CONNECT
            .fire("connection refused by beagle-redis:6379 (172.18.0.2)")
            .subject("redis://default:****@beagle-redis:6379/0")
            .evidence("error", "Connection refused (os error 111)")
            .took(Duration::from_millis(4)),
        REDIS_AUTH.skip_because("redis.connect"),
        STICKY_SESSION.skip("no --url given: the WebSocket checks did not run"),
        ENV_DRIFT
            .warn("open-webui runs with REDIS_URL=redis://redis:6379, the files say redis://beagle-redis:6379/0: container not recreated")
            .subject("open-webui")
            .hint("docker compose up -d open-webui"),
    ]
}

fn suppressions() -> Suppressions {
    Suppressions {
        cli: vec!["config.cors-origin".to_string()],
        inline: vec![InlineIgnore {
            file: ".env".to_string(),
            line: 3,
            ids: vec!["config.redis-url-loopback".to_string()],
            reason: Some("host network mode: localhost is the host".to_string()),
        }],
    }
}

/// `Report::finish`, then the version and run time replaced so snapshots are stable.
fn normalised(mut report: Report) -> Report {
    report.tool.version = "0.0.0-test";
    report.duration_ms = 42;
    report
}

fn report_with(strict: bool) -> Report {
    let mut report = Report::finish(
        "diagnose",
        results(),
        &suppressions(),
        strict,
        Duration::from_millis(1234),
        Secrets::new(),
    );
    report.redact();
    normalised(report)
}

fn report() -> Report {
    report_with(false)
}

/// Fails under CI (which installs everything), else prints one loud line and returns.
fn skip_or_fail(test: &str, reason: &str) {
    if std::env::var_os("CI").is_some() {
        panic!("{test}: {reason} (CI is set: every component must be present)");
    }
    eprintln!("SKIPPED {test}: {reason}");
}

fn render_sarif(report: &Report) -> String {
    sarif::render_with_rules(report, RULES)
}

/// Every format, by name (text without and with colour).
fn all_formats(report: &Report) -> Vec<(&'static str, String)> {
    vec![
        ("text", text::render(report, false)),
        ("text-color", text::render(report, true)),
        ("json", json::render(report)),
        ("markdown", markdown::render(report)),
        ("sarif", render_sarif(report)),
        ("sarif-catalogue", sarif::render(report)),
        ("junit", junit::render(report)),
        ("github", github::render(report)),
        ("gitlab", gitlab::render(report)),
        ("concise", concise::render(report)),
    ]
}

// ---------------------------------------------------------------------------------------------
// The report itself (what every renderer receives)

#[test]
fn the_report_counts_suppressions_apart() {
    let r = report();
    let s = &r.summary;
    assert_eq!(
        (s.pass, s.warn, s.fail, s.skip, s.suppressed),
        (2, 2, 2, 2, 2)
    );
    assert_eq!(r.summary.verdict.as_str(), "fail");
    let loopback = r
        .checks
        .iter()
        .find(|c| c.id == "config.redis-url-loopback")
        .unwrap();
    let sup = loopback.suppressed.as_ref().unwrap();
    assert_eq!(sup.kind, "inline");
    assert_eq!(sup.location.as_ref().unwrap().line, Some(3));
    let cors = r
        .checks
        .iter()
        .find(|c| c.id == "config.cors-origin")
        .unwrap();
    assert_eq!(cors.suppressed.as_ref().unwrap().kind, "cli");
}

#[test]
fn an_inline_ignore_on_the_last_possible_line_does_not_overflow() {
    let sup = Suppressions {
        cli: vec![],
        inline: vec![InlineIgnore {
            file: ".env".into(),
            line: u32::MAX,
            ids: vec!["all".into()],
            reason: None,
        }],
    };
    let r = Report::finish(
        "lint",
        vec![REDIS_TIMEOUT.fire("x").at(at(".env", u32::MAX, 1))],
        &sup,
        false,
        Duration::ZERO,
        Secrets::new(),
    );
    assert_eq!(r.summary.suppressed, 1);
}

// ---------------------------------------------------------------------------------------------
// Snapshots

#[test]
fn snapshot_text() {
    insta::assert_snapshot!("text", text::render(&report(), false));
}

#[test]
fn snapshot_json() {
    insta::assert_snapshot!("json", json::render(&report()));
}

#[test]
fn snapshot_markdown() {
    insta::assert_snapshot!("markdown", markdown::render(&report()));
}

#[test]
fn snapshot_sarif() {
    let out = render_sarif(&report());
    // informationUri comes from Cargo.toml `repository`, which may change.
    let repo = env!("CARGO_PKG_REPOSITORY");
    let out = if repo.is_empty() {
        out
    } else {
        out.replace(repo, "[repository]")
    };
    insta::assert_snapshot!("sarif", out);
}

#[test]
fn snapshot_junit() {
    insta::assert_snapshot!("junit", junit::render(&report()));
}

#[test]
fn snapshot_junit_strict() {
    insta::assert_snapshot!("junit_strict", junit::render(&report_with(true)));
}

#[test]
fn snapshot_gitlab() {
    insta::assert_snapshot!("gitlab", gitlab::render(&report()));
}

#[test]
fn snapshot_concise() {
    insta::assert_snapshot!("concise", concise::render(&report()));
}

#[test]
fn snapshot_github() {
    insta::assert_snapshot!("github", github::render(&report()));
}

// ---------------------------------------------------------------------------------------------
// JSON: schema

fn validator(schema: &Value) -> jsonschema::Validator {
    jsonschema::options()
        .should_validate_formats(true)
        .build(schema)
        .unwrap_or_else(|e| panic!("the schema itself is invalid: {e}"))
}

fn errors(v: &jsonschema::Validator, instance: &Value) -> Vec<String> {
    v.iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

fn report_schema() -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/report.schema.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path:?}: {e}"))
}

#[test]
fn json_output_is_valid_against_the_report_schema() {
    let v = validator(&report_schema());
    for strict in [false, true] {
        let out: Value = serde_json::from_str(&json::render(&report_with(strict))).unwrap();
        let errs = errors(&v, &out);
        assert!(errs.is_empty(), "schema errors: {errs:#?}");
    }
    // An empty run is a report too.
    let empty = Report::finish(
        "lint",
        vec![],
        &Suppressions::default(),
        false,
        Duration::ZERO,
        Secrets::new(),
    );
    let out: Value = serde_json::from_str(&json::render(&empty)).unwrap();
    assert!(errors(&v, &out).is_empty());
}

#[test]
fn report_schema_rejects_what_the_contract_forbids() {
    let v = validator(&report_schema());
    let good: Value = serde_json::from_str(&json::render(&report())).unwrap();
    type Mutation = Box<dyn Fn(&mut Value)>;
    let mutations: Vec<(&str, Mutation)> = vec![
        (
            "unknown status",
            Box::new(|r| r["checks"][0]["status"] = json!("error")),
        ),
        (
            "line 0",
            Box::new(|r| r["checks"][0]["location"]["line"] = json!(0)),
        ),
        (
            "missing summary.verdict",
            Box::new(|r| {
                r["summary"].as_object_mut().unwrap().remove("verdict");
            }),
        ),
        (
            "a renamed field",
            Box::new(|r| {
                let c = r["checks"][0].as_object_mut().unwrap();
                let m = c.remove("message").unwrap();
                c.insert("msg".into(), m);
            }),
        ),
        (
            "a suppressed pass",
            Box::new(|r| {
                r["checks"][1]["suppressed"] = json!({"kind": "cli"});
            }),
        ),
    ];
    for (what, mutate) in mutations {
        let mut bad = good.clone();
        mutate(&mut bad);
        assert!(
            !errors(&v, &bad).is_empty(),
            "the schema accepted {what}: {bad}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// SARIF

/// The official SARIF 2.1.0 schema (OASIS) as serde-sarif ships it in its crate source. Not
/// copied into this repository: its licence is OASIS's, not MIT/Apache. serde-sarif is a
/// dependency, so its source is wherever cargo keeps it: the registry cache, else (vendored
/// sources, another CARGO_HOME) where `cargo metadata` says.
fn sarif_schema() -> Option<Value> {
    let path = sarif_schema_in_registry().or_else(sarif_schema_from_metadata)?;
    let text = std::fs::read_to_string(path).ok()?;
    let mut schema: Value = serde_json::from_str(&text).ok()?;
    fix_language_pattern(&mut schema);
    Some(schema)
}

fn sarif_schema_in_registry() -> Option<PathBuf> {
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))?;
    let src = cargo_home.join("registry").join("src");
    for registry in std::fs::read_dir(&src).ok()?.flatten() {
        let Ok(crates) = std::fs::read_dir(registry.path()) else {
            continue;
        };
        for krate in crates.flatten() {
            let path = krate.path().join("src").join("schema.json");
            if krate
                .file_name()
                .to_string_lossy()
                .starts_with("serde-sarif-0.8")
                && path.is_file()
            {
                return Some(path);
            }
        }
    }
    None
}

fn sarif_schema_from_metadata() -> Option<PathBuf> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = std::process::Command::new(cargo)
        .args(["metadata", "--format-version", "1"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()?;
    let meta: Value = serde_json::from_slice(&out.stdout).ok()?;
    let manifest = meta["packages"]
        .as_array()?
        .iter()
        .find(|p| p["name"] == "serde-sarif")?["manifest_path"]
        .as_str()?
        .to_string();
    let path = PathBuf::from(manifest)
        .parent()?
        .join("src")
        .join("schema.json");
    path.is_file().then_some(path)
}

/// An erratum of the published schema: the `language` pattern
/// `^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$` has a stray `]`, a literal only under
/// ECMA-262 Annex B; the Rust regex engines reject it (and with it the whole schema when
/// formats are checked). Escaping it keeps the ECMA meaning. wsdoctor emits no `language`.
fn fix_language_pattern(v: &mut Value) {
    const BAD: &str = "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$";
    const ESCAPED: &str = "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}\\]?$";
    match v {
        Value::Object(map) => {
            for (k, val) in map.iter_mut() {
                if k == "pattern" && val == BAD {
                    *val = json!(ESCAPED);
                } else {
                    fix_language_pattern(val);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(fix_language_pattern),
        _ => {}
    }
}

#[test]
fn sarif_is_valid_against_the_official_schema() {
    let Some(schema) = sarif_schema() else {
        skip_or_fail(
            "sarif_is_valid_against_the_official_schema",
            "serde-sarif-0.8*/src/schema.json not found under $CARGO_HOME/registry/src",
        );
        return;
    };
    assert_eq!(
        schema["title"],
        "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema"
    );
    let v = validator(&schema);
    let mut no_file = Report::finish(
        "redis",
        vec![REDIS_CONNECT.fire("refused")],
        &Suppressions::default(),
        false,
        Duration::ZERO,
        Secrets::new(),
    );
    no_file.redact();
    for (what, out) in [
        ("test rules", render_sarif(&report())),
        ("catalogue rules", sarif::render(&report())),
        ("strict", render_sarif(&report_with(true))),
        ("no file in the report", render_sarif(&no_file)),
        ("hostile", render_sarif(&hostile_report())),
    ] {
        let log: Value = serde_json::from_str(&out).unwrap();
        let errs = errors(&v, &log);
        assert!(errs.is_empty(), "{what}: SARIF schema errors: {errs:#?}");
    }
    // Negative control: the validator does reject an invalid log.
    let mut bad: Value = serde_json::from_str(&render_sarif(&report())).unwrap();
    bad["runs"][0]["results"][0]["level"] = json!("severe");
    assert!(
        !errors(&v, &bad).is_empty(),
        "the validator accepts anything"
    );
}

#[test]
fn sarif_has_what_github_code_scanning_needs() {
    let log: Value = serde_json::from_str(&render_sarif(&report())).unwrap();
    assert_eq!(log["version"], "2.1.0");
    let run = &log["runs"][0];
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "wsdoctor");
    assert_eq!(driver["version"], "0.0.0-test");
    let rules = driver["rules"].as_array().unwrap();
    assert_eq!(rules.len(), RULES.len());
    let host = &rules[0];
    assert_eq!(host["id"], "config.redis-url-host");
    assert_eq!(host["name"], "ConfigRedisUrlHost");
    assert_eq!(
        host["shortDescription"]["text"],
        "REDIS_URL host is a compose service"
    );
    assert_eq!(host["fullDescription"]["text"], REDIS_URL_HOST.summary);
    assert!(
        host["help"]["text"]
            .as_str()
            .unwrap()
            .contains(REDIS_URL_HOST.fix)
    );
    assert_eq!(host["defaultConfiguration"]["level"], "error");
    assert_eq!(rules[1]["defaultConfiguration"]["level"], "warning");

    // Results: warn and fail only (2 fail, 2 warn, 2 suppressed warnings).
    let results = run["results"].as_array().unwrap();
    let ids: Vec<&str> = results
        .iter()
        .map(|r| r["ruleId"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "config.redis-url-host",
            "config.redis-timeout",
            "config.redis-url-loopback",
            "config.cors-origin",
            "redis.connect",
            "docker.env-drift"
        ]
    );
    for r in results {
        // ruleIndex points at the rule with that id.
        let idx = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[idx]["id"], r["ruleId"]);
        // GitHub rejects a result without a location and needs region.startLine.
        let loc = &r["locations"][0]["physicalLocation"];
        assert!(loc["region"]["startLine"].as_u64().unwrap() >= 1, "{r}");
        assert!(loc["artifactLocation"]["uri"].is_string(), "{r}");
    }
    let host = &results[0];
    assert_eq!(host["level"], "error");
    let loc = &host["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], "docker-compose.yml");
    assert_eq!(loc["artifactLocation"]["uriBaseId"], "%SRCROOT%");
    assert_eq!(loc["region"]["startLine"], 7);
    assert_eq!(loc["region"]["startColumn"], 9);
    assert!(
        host["message"]["text"]
            .as_str()
            .unwrap()
            .contains("Fix: use redis://default:****@beagle-redis:6379/0")
    );
    assert!(host.get("suppressions").is_none());
    assert_eq!(results[1]["level"], "warning");

    let inline = &results[2];
    assert_eq!(inline["suppressions"][0]["kind"], "inSource");
    assert_eq!(
        inline["suppressions"][0]["justification"],
        "host network mode: localhost is the host"
    );
    let cli = &results[3];
    assert_eq!(cli["suppressions"][0]["kind"], "external");
    assert_eq!(
        cli["suppressions"][0]["justification"],
        "--ignore on the command line"
    );

    // A live probe result has no file: anchored at the report's first file, line 1.
    let connect = &results[4];
    let loc = &connect["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], "docker-compose.yml");
    assert_eq!(loc["region"]["startLine"], 1);
    assert!(loc["region"].get("startColumn").is_none());
    assert_eq!(connect["properties"]["anchored"], true);
}

#[test]
fn sarif_without_any_file_has_results_without_locations() {
    let r = Report::finish(
        "redis",
        vec![
            REDIS_CONNECT.fire("refused"),
            REDIS_AUTH.skip_because("redis.connect"),
        ],
        &Suppressions::default(),
        false,
        Duration::ZERO,
        Secrets::new(),
    );
    let log: Value = serde_json::from_str(&render_sarif(&r)).unwrap();
    let results = log["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 1);
    assert!(results[0].get("locations").is_none());
}

#[test]
fn sarif_describes_a_result_whose_rule_is_not_in_the_list() {
    // The real catalogue does not know the test rules: each result still has a rule.
    let log: Value = serde_json::from_str(&sarif::render(&report())).unwrap();
    let rules = log["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    // Every catalogue rule, then one per unknown id, each id once.
    let catalogue = wsdoctor::catalogue::all();
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    for rule in &catalogue {
        assert!(ids.contains(&rule.id), "{} missing", rule.id);
    }
    let mut unique = ids.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), ids.len(), "duplicate rule ids: {ids:?}");
    for r in log["runs"][0]["results"].as_array().unwrap() {
        let idx = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[idx]["id"], r["ruleId"]);
    }
}

// ---------------------------------------------------------------------------------------------
// Markdown: structure and escaping

const HOSTILE: &str = "</details><script>alert(1)</script> a | b `` ``` c\n# injected heading\n- injected item\n<img src=x onerror=alert(2)> [link](javascript:alert(3)) *em* $x$ @octocat \u{1b}[31m";

fn hostile_report() -> Report {
    let mut r = Report::finish(
        "lint",
        vec![
            REDIS_URL_HOST
                .fire(HOSTILE)
                .at(at("a|b`c<d>.yml", 1, 1))
                .subject(HOSTILE)
                .hint(HOSTILE)
                .evidence("value", HOSTILE)
                .evidence("fence", "````\n</details>\n````"),
            REDIS_TIMEOUT.skip(HOSTILE).subject("x|y|z"),
            // Same reason: one collapsed line in text and Markdown.
            WEBSOCKET_MANAGER.skip(HOSTILE).subject("x|y|z"),
            // Causes naming a hostile subject, on a skip and on a finding.
            REDIS_AUTH
                .skip("no server")
                .caused_by("config.redis-url-host", Some(HOSTILE)),
            STICKY_SESSION
                .fire("one round")
                .subject("s")
                .caused_by("config.redis-url-host", Some(HOSTILE)),
            CORS_ORIGIN.fire(HOSTILE).at(at(".env", 2, 1)),
            ENV_DUPLICATE_KEY.pass(HOSTILE).subject(HOSTILE),
        ],
        &Suppressions {
            cli: vec![],
            inline: vec![InlineIgnore {
                file: ".env".into(),
                line: 2,
                ids: vec!["config.cors-origin".into()],
                reason: Some(HOSTILE.into()),
            }],
        },
        false,
        Duration::ZERO,
        Secrets::new(),
    );
    r.redact();
    normalised(r)
}

fn to_html(md: &str) -> String {
    use pulldown_cmark::{Options, Parser, html};
    let mut opts = Options::empty();
    opts.insert(Options::ENABLE_TABLES);
    opts.insert(Options::ENABLE_STRIKETHROUGH);
    let mut out = String::new();
    html::push_html(&mut out, Parser::new_ext(md, opts));
    out
}

/// For every table: (header cells, cells of each body row).
fn tables(md: &str) -> Vec<(usize, Vec<usize>)> {
    use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
    let mut opts = Options::empty();
    opts.insert(Options::ENABLE_TABLES);
    let mut found = Vec::new();
    let mut head = 0;
    let mut rows: Vec<usize> = Vec::new();
    let mut in_head = false;
    for ev in Parser::new_ext(md, opts) {
        match ev {
            Event::Start(Tag::Table(_)) => {
                head = 0;
                rows.clear();
            }
            Event::Start(Tag::TableHead) => in_head = true,
            Event::End(TagEnd::TableHead) => in_head = false,
            Event::Start(Tag::TableRow) => rows.push(0),
            Event::Start(Tag::TableCell) => {
                if in_head {
                    head += 1;
                } else if let Some(last) = rows.last_mut() {
                    *last += 1;
                }
            }
            Event::End(TagEnd::Table) => found.push((head, rows.clone())),
            _ => {}
        }
    }
    found
}

#[test]
fn markdown_structure() {
    let md = markdown::render(&report());
    assert!(md.starts_with("## wsdoctor diagnose: ❌ FAIL\n"), "{md}");
    let html = to_html(&md);
    // The summary table and the table of skipped/suppressed/passed checks.
    let t = tables(&md);
    assert_eq!(t.len(), 2, "{html}");
    assert_eq!(t[0], (5, vec![5]));
    assert_eq!(t[1].0, 4);
    assert_eq!(t[1].1, vec![4; 6], "2 skipped + 2 suppressed + 2 passed");
    assert!(
        html.contains("<td style=\"text-align: right\">2</td>"),
        "{html}"
    );
    // Failing checks before warnings, each with its parts.
    let fail = html.find("Failing checks (2)").unwrap();
    let warn = html.find("Warnings (2)").unwrap();
    assert!(fail < warn);
    // (searched after the "To fix, in order" list at the top, which names them too)
    let after = |needle: &str| fail + html[fail..].find(needle).unwrap();
    let host = after("<code>config.redis-url-host</code>");
    let connect = after("<code>redis.connect</code>");
    let timeout = after("<code>config.redis-timeout</code>");
    assert!(host < connect && connect < warn && warn < timeout);
    assert!(html.contains("<code>docker-compose.yml:7:9</code>"));
    assert!(html.contains("<strong>Fix:</strong>"));
    // The URL with an @ is code (no GitHub mention of @beagle-redis).
    assert!(html.contains("<code>redis://default:****@beagle-redis:6379/0</code>"));
    // Evidence, folded, as JSON.
    assert_eq!(html.matches("<summary>Evidence</summary>").count(), 3);
    assert!(html.contains("<code class=\"language-json\">"));
    assert!(html.contains("\"suggestion\": \"beagle-redis\""), "{html}");
    // Skips with reasons, suppressions with reasons, passes: in the folded table.
    let folded = html
        .find("<details><summary>Skipped (2), suppressed (2) and passed (2) checks</summary>")
        .unwrap();
    assert!(folded > timeout);
    let rest = &html[folded..];
    assert!(rest.contains("skipped because redis.connect did not pass"));
    assert!(rest.contains("host network mode: localhost is the host"));
    assert!(rest.contains("--ignore on the command line"));
    assert!(rest.contains("WEBSOCKET_MANAGER=redis with 4 workers"));
    assert_eq!(html.matches("<details>").count(), 4);
    assert_eq!(html.matches("</details>").count(), 4);
}

#[test]
fn markdown_keeps_hostile_values_as_text() {
    let md = markdown::render(&hostile_report());
    let html = to_html(&md);
    for forbidden in [
        "<script",
        "<img",
        "href=\"javascript",
        "<h1",
        "<em>em</em>",
        "\u{1b}",
    ] {
        assert!(!html.contains(forbidden), "{forbidden} in\n{html}");
    }
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{html}"
    );
    // Only our own details blocks: evidence (1) + the folded table (1).
    assert_eq!(html.matches("<details>").count(), 2, "{html}");
    assert_eq!(html.matches("</details>").count(), 2, "{html}");
    // Pipes in messages, subjects and file names do not add cells.
    let t = tables(&md);
    assert_eq!(t.len(), 2, "{md}");
    assert_eq!(t[1].0, 4);
    // One row for the two skips with the hostile reason, one for the other skip, one
    // suppressed, one passed.
    assert_eq!(t[1].1, vec![4; 4], "{md}");
    // The evidence fence is not closed by the backticks inside it.
    assert!(html.contains("&lt;/details&gt;"));
    // The mention is code, not a link to a user.
    assert!(html.contains("<code>@octocat</code>"));
}

#[test]
fn markdown_of_a_passing_run() {
    let r = normalised(Report::finish(
        "lint",
        vec![ENV_DUPLICATE_KEY.pass("ok")],
        &Suppressions::default(),
        false,
        Duration::ZERO,
        Secrets::new(),
    ));
    let md = markdown::render(&r);
    assert!(md.starts_with("## wsdoctor lint: ✅ PASS\n"));
    assert!(!md.contains("Failing checks"));
    assert!(!md.contains("### Warnings"));
    assert_eq!(tables(&md).len(), 2);
}

// ---------------------------------------------------------------------------------------------
// JUnit

#[derive(Debug, Default, Clone)]
struct Case {
    family: String,
    name: String,
    classname: String,
    outcome: String,
    message: String,
    kind: String,
    body: String,
    system_out: String,
    file: String,
    line: String,
}

/// A `<testsuite>`: name, tests, failures, skipped.
type Suite = (String, u64, u64, u64);

fn parse_junit(xml: &str) -> (Vec<Suite>, Vec<Case>) {
    use quick_xml::Reader;
    use quick_xml::events::Event;
    let mut reader = Reader::from_str(xml);
    let mut suites = Vec::new();
    let mut cases: Vec<Case> = Vec::new();
    let mut suite = String::new();
    let mut text_target: Option<&'static str> = None;
    let attrs = |e: &quick_xml::events::BytesStart| -> Vec<(String, String)> {
        e.attributes()
            .map(|a| {
                let a = a.expect("well-formed attribute");
                (
                    String::from_utf8(a.key.as_ref().to_vec()).unwrap(),
                    a.normalized_value(quick_xml::XmlVersion::Explicit1_0)
                        .expect("valid escape")
                        .into_owned(),
                )
            })
            .collect()
    };
    let get = |attrs: &[(String, String)], k: &str| {
        attrs
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    loop {
        let ev = reader.read_event().expect("well-formed XML");
        match ev {
            Event::Eof => break,
            Event::Start(e) | Event::Empty(e) => {
                let a = attrs(&e);
                match e.name().as_ref() {
                    b"testsuite" => {
                        suite = get(&a, "name");
                        let n = |k: &str| get(&a, k).parse::<u64>().unwrap();
                        suites.push((suite.clone(), n("tests"), n("failures"), n("skipped")));
                    }
                    b"testcase" => cases.push(Case {
                        family: suite.clone(),
                        name: get(&a, "name"),
                        classname: get(&a, "classname"),
                        file: get(&a, "file"),
                        line: get(&a, "line"),
                        outcome: "pass".into(),
                        ..Case::default()
                    }),
                    b"failure" | b"skipped" => {
                        let c = cases.last_mut().unwrap();
                        c.outcome = String::from_utf8(e.name().as_ref().to_vec()).unwrap();
                        c.message = get(&a, "message");
                        c.kind = get(&a, "type");
                        text_target = Some("body");
                    }
                    b"system-out" => text_target = Some("out"),
                    _ => {}
                }
            }
            Event::Text(t) => {
                if let (Some(target), Some(c)) = (text_target, cases.last_mut()) {
                    let s = t.xml10_content().expect("valid text").into_owned();
                    match target {
                        "body" => c.body.push_str(&s),
                        _ => c.system_out.push_str(&s),
                    }
                }
            }
            Event::GeneralRef(r) => {
                // quick-xml 0.38+ reports entity references apart from the text around them.
                if let (Some(target), Some(c)) = (text_target, cases.last_mut()) {
                    let name = r.decode().expect("utf-8").into_owned();
                    let ch = match name.as_str() {
                        "lt" => "<".to_string(),
                        "gt" => ">".to_string(),
                        "amp" => "&".to_string(),
                        "quot" => "\"".to_string(),
                        "apos" => "'".to_string(),
                        other => r
                            .resolve_char_ref()
                            .ok()
                            .flatten()
                            .map(String::from)
                            .unwrap_or_else(|| format!("&{other};")),
                    };
                    match target {
                        "body" => c.body.push_str(&ch),
                        _ => c.system_out.push_str(&ch),
                    }
                }
            }
            Event::End(e) => {
                if matches!(e.name().as_ref(), b"failure" | b"skipped" | b"system-out") {
                    text_target = None;
                }
            }
            _ => {}
        }
    }
    (suites, cases)
}

#[test]
fn junit_one_suite_per_family_one_case_per_result() {
    let (suites, cases) = parse_junit(&junit::render(&report()));
    assert_eq!(
        suites,
        vec![
            ("config".to_string(), 6, 1, 2),
            ("redis".to_string(), 2, 1, 1),
            ("ws".to_string(), 1, 0, 1),
            ("docker".to_string(), 1, 0, 0),
        ]
    );
    let find = |name: &str| cases.iter().find(|c| c.name == name).unwrap().clone();
    let host = find("config.redis-url-host [open-webui]");
    assert_eq!(host.classname, "wsdoctor.config");
    assert_eq!(host.family, "config");
    assert_eq!(host.outcome, "failure");
    assert_eq!(host.kind, "error");
    assert!(
        host.message
            .starts_with("docker-compose.yml:7:9: REDIS_URL host 'redis'")
    );
    assert!(
        host.body
            .contains("fix: use redis://default:****@beagle-redis:6379/0")
    );
    // A warning is not a failure without --strict, but says so.
    let timeout = find("config.redis-timeout [beagle-redis]");
    assert_eq!(timeout.outcome, "pass");
    assert!(
        timeout
            .system_out
            .starts_with("WARNING: config.redis-timeout")
    );
    assert!(timeout.system_out.contains("fix: add `--timeout 1800`"));
    // Suppressed: skipped with its reason.
    let loopback = find("config.redis-url-loopback [open-webui]");
    assert_eq!(loopback.outcome, "skipped");
    assert_eq!(
        loopback.message,
        "suppressed: host network mode: localhost is the host"
    );
    let cors = find("config.cors-origin");
    assert_eq!(cors.message, "suppressed: --ignore on the command line");
    let auth = find("redis.auth");
    assert_eq!(auth.outcome, "skipped");
    assert_eq!(auth.message, "skipped because redis.connect did not pass");
    assert_eq!(find("config.env-duplicate-key").outcome, "pass");
    assert_eq!(
        find("redis.connect [redis://default:****@beagle-redis:6379/0]").classname,
        "wsdoctor.redis"
    );
}

#[test]
fn junit_strict_turns_warnings_into_failures() {
    let (suites, cases) = parse_junit(&junit::render(&report_with(true)));
    assert_eq!(suites[0], ("config".to_string(), 6, 2, 2));
    assert_eq!(suites[3], ("docker".to_string(), 1, 1, 0));
    let timeout = cases
        .iter()
        .find(|c| c.name == "config.redis-timeout [beagle-redis]")
        .unwrap();
    assert_eq!(timeout.outcome, "failure");
    assert_eq!(timeout.kind, "warning");
}

#[test]
fn junit_escapes_hostile_values() {
    let xml = junit::render(&hostile_report());
    let (_, cases) = parse_junit(&xml);
    let host = cases
        .iter()
        .find(|c| c.name.starts_with("config.redis-url-host"))
        .unwrap();
    // The first line of the message survives the round trip intact (XML escaping, not loss).
    assert!(
        host.message
            .ends_with("</details><script>alert(1)</script> a | b `` ``` c"),
        "{}",
        host.message
    );
    assert!(host.body.contains("# injected heading"));
    assert!(!xml.contains('\u{1b}'));
}

// ---------------------------------------------------------------------------------------------
// GitHub Actions

#[test]
fn github_annotations() {
    let out = github::render(&report());
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        "::error file=docker-compose.yml,line=7,col=9,title=config.redis-url-host%3A REDIS_URL host is a compose service::[open-webui] REDIS_URL host 'redis' is not a service, container_name or alias; did you mean 'beagle-redis'?%0AFix: use redis://default:****@beagle-redis:6379/0"
    );
    assert!(lines[1].starts_with("::error title=redis.connect%3A Redis accepts a connection::"));
    assert!(lines[2].starts_with(
        "::warning file=docker-compose.yml,line=15,col=14,title=config.redis-timeout%3A"
    ));
    assert!(lines[3].starts_with("::warning title=docker.env-drift%3A"));
    assert!(
        lines[4].starts_with(
            "suppressed warn config.redis-url-loopback [open-webui]: host network mode"
        )
    );
    assert!(
        lines[5].starts_with("suppressed warn config.cors-origin: --ignore on the command line")
    );
    assert_eq!(
        lines[6],
        "wsdoctor diagnose: FAIL (2 failing, 2 warnings, 2 passed, 2 skipped, 2 suppressed)"
    );
    assert_eq!(lines.len(), 7);
}

#[test]
fn github_hostile_values_cannot_start_a_command() {
    let mut r = hostile_report();
    r.checks.push(
        REDIS_TIMEOUT
            .fire("50% done\r\n::error file=x::injected")
            .at(at("odd,name:1.yml", 3, 4)),
    );
    let out = github::render(&r);
    for line in out.lines() {
        assert!(
            line.starts_with("::error ")
                || line.starts_with("::warning ")
                || line.starts_with("suppressed ")
                || line.starts_with("wsdoctor "),
            "unexpected line {line:?}"
        );
        assert!(!line.starts_with("::error file=x"), "{line}");
    }
    assert!(out.contains(
        "::warning file=odd%2Cname%3A1.yml,line=3,col=4,title=config.redis-timeout%3A Redis closes idle clients::50%25 done%0D%0A::error file=x::injected\n"
    ));
    assert!(!out.contains('\u{1b}'));
}

// ---------------------------------------------------------------------------------------------
// Text

#[test]
fn text_shows_no_terminal_escapes_from_values() {
    let out = text::render(&hostile_report(), false);
    assert!(!out.contains('\u{1b}'), "{out}");
    assert!(out.contains("\\u{1b}[31m"));
    // One line per brief result, whatever the subject or reason holds.
    let brief: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("IGNORED") || l.starts_with("SKIP") || l.starts_with("PASS"))
        .collect();
    assert_eq!(brief.len(), 4, "{out}");
    assert_eq!(
        out.lines().filter(|l| l.starts_with("# injected")).count(),
        0,
        "{out}"
    );
    let coloured = text::render(&report(), true);
    assert!(coloured.contains("\u{1b}["));
}

// ---------------------------------------------------------------------------------------------
// Secrets

#[test]
fn no_format_leaks_a_registered_secret_after_redaction() {
    const PASSWORD: &str = "Hunter2Secret9";
    const URL_PASSWORD: &str = "Tr0ub4dorPass";
    const NUMERIC_PASSWORD: u64 = 918273645;
    let mut secrets = Secrets::new();
    secrets.add(PASSWORD);
    secrets.add_url_passwords(&format!(
        "redis://default:{URL_PASSWORD}@beagle-redis:6379/0"
    ));
    let url = format!("redis://default:{URL_PASSWORD}@beagle-redis:6379/0");
    let checks = vec![
        REDIS_URL_HOST
            .fire(format!("REDIS_URL={url} points at 'redis'"))
            .at(at("docker-compose.yml", 7, 9))
            .subject(url.clone())
            .hint(format!(
                "use redis://default:{URL_PASSWORD}@beagle-redis:6379/0"
            ))
            .evidence("url", url.clone())
            .evidence("REDIS_PASSWORD", NUMERIC_PASSWORD)
            .evidence(
                "command",
                json!(["redis-server", "--requirepass", PASSWORD]),
            )
            .evidence(
                "nested",
                json!({"auth": {"error": format!("WRONGPASS {PASSWORD}")}}),
            ),
        REDIS_AUTH
            .fire(format!("AUTH failed for password {PASSWORD}"))
            .subject(format!("{PASSWORD}@host")),
        REDIS_TIMEOUT.fire("timeout 0").at(at(".env", 3, 1)),
        ENV_DUPLICATE_KEY.skip(format!("skipped: {PASSWORD}")),
    ];
    let sup = Suppressions {
        cli: vec![],
        inline: vec![InlineIgnore {
            file: ".env".into(),
            line: 3,
            ids: vec!["config.redis-timeout".into()],
            reason: Some(format!("the password is {PASSWORD}")),
        }],
    };
    let mut report = Report::finish("diagnose", checks, &sup, true, Duration::ZERO, secrets);
    // Before redaction the secrets are there (the test would prove nothing otherwise).
    assert!(json::render(&report).contains(PASSWORD));
    assert!(json::render(&report).contains(&NUMERIC_PASSWORD.to_string()));
    report.redact();
    for (format, out) in all_formats(&report) {
        for secret in [
            PASSWORD.to_string(),
            URL_PASSWORD.to_string(),
            NUMERIC_PASSWORD.to_string(),
        ] {
            assert!(!out.contains(&secret), "{format} leaks {secret}:\n{out}");
        }
        assert!(out.contains("****"), "{format} shows no mask:\n{out}");
    }
}

#[test]
fn skip_results_keep_their_reason_everywhere() {
    let r = report();
    let skip = r
        .checks
        .iter()
        .find(|c| c.status == Status::Skip && c.id == "redis.auth")
        .unwrap();
    assert_eq!(skip.evidence["depends_on"], "redis.connect");
    for (format, out) in all_formats(&r) {
        if format.starts_with("sarif") || ["github", "gitlab", "concise"].contains(&format) {
            continue; // findings only
        }
        assert!(
            out.contains("skipped because redis.connect did not pass"),
            "{format}:\n{out}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// A correlated run: root causes, their consequences, one fix per cause, collapsed skips

/// A rule for the correlated report (test-local like the others; leaked: lives for the test).
fn leaked_rule(id: &'static str, severity: Severity, title: &'static str) -> &'static Rule {
    Box::leak(Box::new(Rule {
        id,
        severity,
        title,
        summary: "test rule",
        why: "test rule",
        fix: "test rule",
    }))
}

const WS_URL: &str = "http://localhost:3000";
const REDIS_SUBJECT: &str = "redis://:****@redis:6379/0";

/// `diagnose` on the seed deployment as correlation leaves it: the URL's host is not a
/// service, so Redis fails DNS and the CONNECT is never answered (both explained by the
/// host), the dependent Redis checks skip, and the files and the running container agree on
/// `timeout 0` with the same advice.
fn correlated_results() -> Vec<CheckResult> {
    let timeout_fix = "add `--timeout 1800` to the redis-server command";
    let mut out = vec![
        REDIS_URL_HOST
            .fire("open-webui WEBSOCKET_REDIS_URL: host 'redis' is not a service, container_name or alias of this project; did you mean 'beagle-redis'?")
            .at(at("docker-compose.yml", 12, 29))
            .subject("open-webui")
            .hint("use redis://:****@beagle-redis:6379/0"),
        REDIS_TIMEOUT
            .fire("beagle-redis runs with timeout 0: idle clients are never closed")
            .at(at("docker-compose.yml", 20, 14))
            .subject("beagle-redis")
            .hint(timeout_fix),
    ];
    for id in [
        "config.redis-url-port",
        "config.redis-url-password",
        "config.network-shared",
    ] {
        out.push(
            leaked_rule(id, Severity::Error, "a config check")
                .skip_because("config.redis-url-host")
                .subject("open-webui"),
        );
    }
    out.push(
        leaked_rule(
            "docker.redis-command",
            Severity::Warning,
            "The running Redis has safe flags",
        )
        .warn("the running beagle-redis has timeout 0")
        .subject("beagle-redis")
        .hint(timeout_fix),
    );
    out.push(
        REDIS_CONNECT
            .fire("DNS: 'redis' is not known (Name or service not known)")
            .subject(REDIS_SUBJECT)
            .caused_by("config.redis-url-host", Some("open-webui")),
    );
    for id in [
        "redis.tls",
        "redis.auth",
        "redis.ping",
        "redis.db-select",
        "redis.maxclients",
        "redis.timeout",
        "redis.client-list",
        "redis.pubsub",
        "redis.latency",
        "redis.memory",
        "redis.version",
        "redis.sentinel",
        "redis.cluster",
    ] {
        out.push(
            leaked_rule(id, Severity::Warning, "a redis check")
                .skip_because("redis.connect")
                .subject(REDIS_SUBJECT),
        );
    }
    out.push(
        leaked_rule(
            "ws.http-reachable",
            Severity::Error,
            "The server answers HTTP",
        )
        .pass("the app answers HTTP (200 in 3 ms)")
        .subject(WS_URL),
    );
    out.push(
        leaked_rule(
            "ws.socketio-connect",
            Severity::Error,
            "Socket.IO CONNECT is answered",
        )
        .fire("CONNECT sent, no answer within 5 s")
        .subject(WS_URL)
        .hint("Open WebUI answers CONNECT once its Redis manager is up: see redis.connect")
        .caused_by("config.redis-url-host", Some("open-webui")),
    );
    out.push(
        leaked_rule(
            "ws.heartbeat",
            Severity::Warning,
            "The connection survives a ping",
        )
        .warn("no PING within the probe's budget")
        .subject(WS_URL)
        .caused_by("ws.socketio-connect", Some(WS_URL)),
    );
    for id in ["ws.upgrade", "ws.sticky-session"] {
        out.push(
            leaked_rule(id, Severity::Warning, "a ws check")
                .skip_because("ws.socketio-connect")
                .subject(WS_URL),
        );
    }
    out
}

fn correlated_report() -> Report {
    let mut r = Report::finish(
        "diagnose",
        correlated_results(),
        &Suppressions::default(),
        false,
        Duration::ZERO,
        Secrets::new(),
    );
    r.redact();
    normalised(r)
}

#[test]
fn correlated_fix_list_has_one_item_per_root_cause() {
    let r = correlated_report();
    let list = r.fix_list();
    let ids: Vec<&str> = list.iter().map(|i| i.result.id).collect();
    assert_eq!(ids, ["config.redis-url-host", "config.redis-timeout"]);
    let explained: Vec<&str> = list[0].explains.iter().map(|c| c.id).collect();
    assert_eq!(
        explained,
        ["redis.connect", "ws.socketio-connect", "ws.heartbeat"]
    );
    let same: Vec<&str> = list[1].also_reported_by.iter().map(|c| c.id).collect();
    assert_eq!(same, ["docker.redis-command"]);

    let text = text::render(&r, false);
    let fixes = text
        .split("To fix, in order:\n")
        .nth(1)
        .unwrap()
        .split("\n\n")
        .next()
        .unwrap();
    assert_eq!(
        fixes,
        "  1. config.redis-url-host [open-webui] docker-compose.yml:12:29: use redis://:****@beagle-redis:6379/0\n\
         \x20    also explains: redis.connect [redis://:****@redis:6379/0], ws.socketio-connect [http://localhost:3000], ws.heartbeat [http://localhost:3000]\n\
         \x20 2. config.redis-timeout [beagle-redis] docker-compose.yml:20:14: add `--timeout 1800` to the redis-server command\n\
         \x20    also reported by: docker.redis-command [beagle-redis]"
    );
    // Every consequence is still in the list of findings, saying what explains it.
    assert!(text.contains("     because config.redis-url-host [open-webui]\n"));
    assert!(text.contains("     because ws.socketio-connect [http://localhost:3000]\n"));
}

#[test]
fn correlated_skips_are_one_line_in_text_and_markdown_and_complete_elsewhere() {
    let r = correlated_report();
    let text = text::render(&r, false);
    assert!(
        text.contains(&format!(
            "SKIP    {:<38} [{REDIS_SUBJECT}] skipped because redis.connect did not pass\n",
            "redis.* (13 checks)"
        )),
        "{text}"
    );
    assert!(
        text.contains("SKIP    config.redis-url-port, config.redis-url-password, config.network-shared [open-webui] skipped because config.redis-url-host did not pass\n"),
        "{text}"
    );
    assert!(
        text.contains("SKIP    ws.upgrade, ws.sticky-session "),
        "{text}"
    );
    assert_eq!(text.matches("did not pass").count(), 3, "{text}");

    let md = markdown::render(&r);
    let t = tables(&md);
    assert_eq!(t.len(), 2);
    // 3 skip rows (one per reason) + 1 pass, four cells each.
    assert_eq!(t[1].1, vec![4; 4], "{md}");
    let html = to_html(&md);
    assert!(
        html.contains("<td><code>redis.*</code> (13 checks)</td>"),
        "{html}"
    );
    // The fix list is an ordered list of two items, each with a nested list.
    let fix_list = &html[html.find("<ol>").unwrap()..html.find("</ol>").unwrap()];
    assert_eq!(fix_list.matches("<li>").count(), 4, "{fix_list}");
    assert!(fix_list.contains("also explains: <code>redis.connect</code>"));
    assert!(fix_list.contains("also reported by: <code>docker.redis-command</code>"));
    assert!(fix_list.contains("at <code>docker-compose.yml:12:29</code>"));
    assert!(html.contains(
        "<strong>Because:</strong> <code>config.redis-url-host</code> (<code>open-webui</code>)"
    ));

    // Machine formats: every result, each skip with its reason.
    let json: Value = serde_json::from_str(&json::render(&r)).unwrap();
    let checks = json["checks"].as_array().unwrap();
    assert_eq!(checks.len(), r.checks.len());
    assert_eq!(
        checks
            .iter()
            .filter(|c| c["message"] == "skipped because redis.connect did not pass")
            .count(),
        13
    );
    let (suites, _) = parse_junit(&junit::render(&r));
    let redis = suites.iter().find(|s| s.0 == "redis").unwrap();
    assert_eq!((redis.1, redis.2, redis.3), (14, 1, 13));
}

#[test]
fn correlated_report_is_valid_in_every_format() {
    let r = correlated_report();
    let out: Value = serde_json::from_str(&json::render(&r)).unwrap();
    let errs = errors(&validator(&report_schema()), &out);
    assert!(errs.is_empty(), "schema errors: {errs:#?}");
    let causes: Vec<&str> = out["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["caused_by"].as_str())
        .collect();
    assert_eq!(
        causes,
        [
            "config.redis-url-host [open-webui]",
            "config.redis-url-host [open-webui]",
            "ws.socketio-connect [http://localhost:3000]"
        ]
    );
    // Negative control: a caused_by that is not a check reference is rejected.
    let mut bad = out.clone();
    bad["checks"][0]["caused_by"] = json!("not an id");
    assert!(!errors(&validator(&report_schema()), &bad).is_empty());

    let log: Value = serde_json::from_str(&render_sarif(&r)).unwrap();
    let results = log["runs"][0]["results"].as_array().unwrap();
    // SARIF results are findings, consequences included: 2 + 1 + 1 + 1 + 1.
    assert_eq!(results.len(), 6);
    assert!(
        results
            .iter()
            .any(|x| x["properties"]["caused_by"] == "config.redis-url-host [open-webui]")
    );
    match sarif_schema() {
        Some(schema) => {
            let errs = errors(&validator(&schema), &log);
            assert!(errs.is_empty(), "SARIF schema errors: {errs:#?}");
        }
        None => skip_or_fail(
            "correlated_report_is_valid_in_every_format",
            "serde-sarif-0.8*/src/schema.json not found under $CARGO_HOME/registry/src",
        ),
    }

    let (_, cases) = parse_junit(&junit::render(&r));
    assert_eq!(cases.len(), r.checks.len());
    let connect = cases
        .iter()
        .find(|c| c.name == format!("ws.socketio-connect [{WS_URL}]"))
        .unwrap();
    assert_eq!(connect.outcome, "failure");
    assert!(
        connect
            .body
            .contains("caused by: config.redis-url-host [open-webui]")
    );

    let github = github::render(&r);
    assert!(github.contains("%0ABecause: config.redis-url-host [open-webui]"));
}

#[test]
fn snapshot_correlated_text() {
    insta::assert_snapshot!("correlated_text", text::render(&correlated_report(), false));
}

#[test]
fn snapshot_correlated_markdown() {
    insta::assert_snapshot!(
        "correlated_markdown",
        markdown::render(&correlated_report())
    );
}

// ---------------------------------------------------------------------------------------------
// Through the binary, in a git repository: paths from the repository root

const SEED_COMPOSE: &str = "\
services:
  open-webui:
    image: ghcr.io/open-webui/open-webui:main
    environment:
      - UVICORN_WORKERS=2
      - WEBSOCKET_MANAGER=redis
      - WEBSOCKET_REDIS_URL=redis://:${REDIS_PASSWORD}@redis:6379/0
  beagle-redis:
    image: redis:7
    command: [\"redis-server\", \"--requirepass\", \"${REDIS_PASSWORD}\", \"--timeout\", \"1800\"]
";

/// A temporary git repository (made by the real `git init`) with the seed bug in
/// `deploy/docker-compose.yml`. None (after a loud skip) when git is missing.
fn git_repo_with_seed(test: &str) -> Option<tempfile::TempDir> {
    let tmp = tempfile::tempdir().unwrap();
    let init = std::process::Command::new("git")
        .args(["init", "-q"])
        .current_dir(tmp.path())
        .output();
    match init {
        Ok(o) if o.status.success() => {}
        Ok(o) => panic!("git init failed: {}", String::from_utf8_lossy(&o.stderr)),
        Err(e) => {
            skip_or_fail(test, &format!("git is not installed: {e}"));
            return None;
        }
    }
    assert!(tmp.path().join(".git").is_dir());
    std::fs::create_dir_all(tmp.path().join("deploy")).unwrap();
    std::fs::write(tmp.path().join("deploy/docker-compose.yml"), SEED_COMPOSE).unwrap();
    std::fs::write(
        tmp.path().join("deploy/.env"),
        "REDIS_PASSWORD=Gq4vB8nZ2mRt\n",
    )
    .unwrap();
    Some(tmp)
}

/// `wsdoctor <args>` run in `dir`: (exit code, stdout).
fn wsdoctor_in(dir: &std::path::Path, args: &[&str]) -> (i32, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_wsdoctor"))
        .args(args)
        .current_dir(dir)
        .env_remove("COMPOSE_FILE")
        .env_remove("COMPOSE_PROJECT_NAME")
        .env_remove("COMPOSE_PROFILES")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
    )
}

/// The `(uri, uriBaseId, startLine)` of each located SARIF result, and its fingerprint.
fn sarif_places(log: &Value) -> Vec<(String, String, i64, String)> {
    log["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| {
            let phys = &r["locations"][0]["physicalLocation"];
            Some((
                phys["artifactLocation"]["uri"].as_str()?.to_string(),
                phys["artifactLocation"]["uriBaseId"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
                phys["region"]["startLine"].as_i64()?,
                r["partialFingerprints"]["wsdoctor/v1"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
            ))
        })
        .collect()
}

#[test]
fn sarif_of_a_subdirectory_names_the_file_from_the_repository_root() {
    let test = "sarif_of_a_subdirectory_names_the_file_from_the_repository_root";
    let Some(repo) = git_repo_with_seed(test) else {
        return;
    };
    let root = repo.path();
    // From the repository root, and from inside the subdirectory: the same path.
    for (cwd, project_dir) in [(root.to_path_buf(), "deploy"), (root.join("deploy"), ".")] {
        let (code, out) = wsdoctor_in(
            &cwd,
            &["lint", "--project-dir", project_dir, "--format", "sarif"],
        );
        assert_eq!(code, 1, "{out}");
        let log: Value = serde_json::from_str(&out).unwrap();
        let places = sarif_places(&log);
        let host = places
            .iter()
            .find(|p| p.2 == 7)
            .unwrap_or_else(|| panic!("no result on line 7: {places:#?}"));
        assert_eq!(host.0, "deploy/docker-compose.yml", "{places:#?}");
        assert_eq!(host.1, "%SRCROOT%");
        assert!(
            places.iter().all(|p| p.0.starts_with("deploy/")),
            "{places:#?}"
        );
        let base = log["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"]
            .as_str()
            .unwrap();
        assert!(
            base.starts_with("file:///") && base.ends_with('/'),
            "{base}"
        );
        let resolved = PathBuf::from(base.strip_prefix("file://").unwrap()).join(&host.0);
        assert!(resolved.is_file(), "{} does not exist", resolved.display());
        if let Some(schema) = sarif_schema() {
            let errs = errors(&validator(&schema), &log);
            assert!(errs.is_empty(), "SARIF schema errors: {errs:#?}");
        }
        // The other formats that name files say the same path.
        let (_, gh) = wsdoctor_in(
            &cwd,
            &["lint", "--project-dir", project_dir, "--format", "github"],
        );
        assert!(gh.contains("file=deploy/docker-compose.yml,line=7"), "{gh}");
        let (_, js) = wsdoctor_in(
            &cwd,
            &["lint", "--project-dir", project_dir, "--format", "json"],
        );
        let js: Value = serde_json::from_str(&js).unwrap();
        assert!(
            js["checks"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|c| c["location"]["file"].as_str())
                .all(|f| f.starts_with("deploy/")),
            "{js:#}"
        );
    }
}

#[test]
fn sarif_fingerprints_survive_a_line_move_and_rules_link_their_docs() {
    let test = "sarif_fingerprints_survive_a_line_move_and_rules_link_their_docs";
    let Some(repo) = git_repo_with_seed(test) else {
        return;
    };
    let root = repo.path();
    let lint = || {
        let (_, out) = wsdoctor_in(
            root,
            &["lint", "--project-dir", "deploy", "--format", "sarif"],
        );
        serde_json::from_str::<Value>(&out).unwrap()
    };
    let before = lint();
    // Three lines inserted above every finding.
    let compose = root.join("deploy/docker-compose.yml");
    std::fs::write(&compose, format!("# one\n# two\n# three\n{SEED_COMPOSE}")).unwrap();
    let after = lint();
    let (b, a) = (sarif_places(&before), sarif_places(&after));
    assert!(!b.is_empty());
    assert_eq!(b.len(), a.len(), "{b:#?}\n{a:#?}");
    for (x, y) in b.iter().zip(&a) {
        assert_eq!(x.2 + 3, y.2, "the line moved: {x:?} {y:?}");
        assert_eq!(x.3.len(), 32, "{x:?}");
        assert_eq!(x.3, y.3, "the fingerprint followed the line: {x:?} {y:?}");
    }
    // Distinct findings, distinct fingerprints.
    let mut prints: Vec<&String> = b.iter().map(|p| &p.3).collect();
    prints.sort();
    prints.dedup();
    assert_eq!(prints.len(), b.len(), "{b:#?}");
    // Every rule links its section of docs/checks.md, with the anchor the generator writes.
    let docs = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/checks.md"),
    )
    .unwrap();
    let rules = before["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    assert!(rules.len() > 10);
    for rule in rules {
        let id = rule["id"].as_str().unwrap();
        let uri = rule["helpUri"].as_str().unwrap();
        let (page, anchor) = uri.split_once('#').unwrap();
        assert!(
            page.starts_with("https://") && page.ends_with("docs/checks.md"),
            "{uri}"
        );
        assert!(
            docs.contains(&format!("[`{id}`](#{anchor})")),
            "{id}: #{anchor}"
        );
        assert!(docs.contains(&format!("\n## {id}\n")), "{id}");
        // GitHub's heading anchor: lowercase, punctuation other than - and _ dropped.
        let github_anchor: String = id
            .to_lowercase()
            .chars()
            .filter(|c| c.is_alphanumeric() || *c == '-' || *c == '_')
            .collect();
        assert_eq!(anchor, github_anchor);
    }
}

// ---------------------------------------------------------------------------------------------
// GitLab Code Quality and concise

/// The fields of a Code Quality issue GitLab documents and reads ("Implement a custom tool",
/// https://docs.gitlab.com/ee/ci/testing/code_quality.html#implement-a-custom-tool; read from
/// doc/ci/testing/code_quality.md of gitlabhq/gitlabhq at 01eae359): a JSON array of objects
/// with `description`, `check_name`, `fingerprint`, `severity` (`info`, `minor`, `major`,
/// `critical`, `blocker`), `location.path` (relative) and `location.lines.begin` (or
/// `location.positions.begin.line`; wsdoctor writes `lines`). Everything wsdoctor writes is
/// required here, so a missing field fails the test.
fn gitlab_schema() -> Value {
    json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "array",
        "items": {
            "type": "object",
            "required": ["description", "check_name", "fingerprint", "severity", "location"],
            "properties": {
                "description": {"type": "string", "minLength": 1, "pattern": "^[^\\n]*$"},
                "check_name": {"type": "string", "minLength": 1},
                "fingerprint": {"type": "string", "pattern": "^[0-9a-f]{32}$"},
                "severity": {"enum": ["info", "minor", "major", "critical", "blocker"]},
                "location": {
                    "type": "object",
                    "required": ["path", "lines"],
                    "properties": {
                        "path": {"type": "string", "minLength": 1, "not": {"pattern": "^/"}},
                        "lines": {
                            "type": "object",
                            "required": ["begin"],
                            "properties": {"begin": {"type": "integer", "minimum": 1}}
                        }
                    }
                }
            }
        }
    })
}

#[test]
fn gitlab_report_has_the_fields_gitlab_documents() {
    let v = validator(&gitlab_schema());
    for (what, r) in [("report", report()), ("hostile", hostile_report())] {
        let out = gitlab::render(&r);
        assert!(
            !out.starts_with('\u{feff}'),
            "GitLab refuses a byte order mark"
        );
        let issues: Value = serde_json::from_str(&out).unwrap();
        let errs = errors(&v, &issues);
        assert!(errs.is_empty(), "{what}: {errs:#?}\n{out}");
    }
    let issues: Value = serde_json::from_str(&gitlab::render(&report())).unwrap();
    let issues = issues.as_array().unwrap();
    // Findings only, suppressed ones left out: the host failure, the timeout warning, the
    // refused connection and the drift warning.
    let summary: Vec<(&str, &str, &str, i64)> = issues
        .iter()
        .map(|i| {
            (
                i["check_name"].as_str().unwrap(),
                i["severity"].as_str().unwrap(),
                i["location"]["path"].as_str().unwrap(),
                i["location"]["lines"]["begin"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("config.redis-url-host", "major", "docker-compose.yml", 7),
            ("config.redis-timeout", "minor", "docker-compose.yml", 15),
            // No file: anchored at the first file the report names.
            ("redis.connect", "major", "docker-compose.yml", 1),
            ("docker.env-drift", "minor", "docker-compose.yml", 1),
        ]
    );
    assert_eq!(
        issues[0]["description"],
        "[open-webui] REDIS_URL host 'redis' is not a service, container_name or alias; did you mean 'beagle-redis'? Fix: use redis://default:****@beagle-redis:6379/0"
    );
    // Negative controls: the schema rejects what GitLab would not read.
    let mut bad = Value::Array(issues.clone());
    bad[0]["severity"] = json!("error");
    assert!(
        !errors(&v, &bad).is_empty(),
        "the schema accepts any severity"
    );
    let mut bad = Value::Array(issues.clone());
    bad[1]["location"].as_object_mut().unwrap().remove("lines");
    assert!(!errors(&v, &bad).is_empty(), "the schema accepts no line");
    let mut bad = Value::Array(issues.clone());
    bad[2].as_object_mut().unwrap().remove("fingerprint");
    assert!(
        !errors(&v, &bad).is_empty(),
        "the schema accepts no fingerprint"
    );
}

#[test]
fn gitlab_fingerprints_are_unique_even_for_identical_findings() {
    let same = || {
        REDIS_TIMEOUT
            .fire("timeout 0")
            .at(at("compose.yaml", 3, 1))
            .subject("r")
    };
    let r = Report::finish(
        "lint",
        vec![same(), same(), same()],
        &Suppressions::default(),
        false,
        Duration::ZERO,
        Secrets::new(),
    );
    let issues: Value = serde_json::from_str(&gitlab::render(&r)).unwrap();
    let mut prints: Vec<&str> = issues
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["fingerprint"].as_str().unwrap())
        .collect();
    assert_eq!(prints.len(), 3);
    prints.sort_unstable();
    prints.dedup();
    assert_eq!(prints.len(), 3);
    // A passing run is an empty array, not nothing.
    let clean = Report::finish(
        "lint",
        vec![REDIS_TIMEOUT.pass("timeout 1800")],
        &Suppressions::default(),
        false,
        Duration::ZERO,
        Secrets::new(),
    );
    assert_eq!(gitlab::render(&clean), "[]\n");
    assert_eq!(concise::render(&clean), "");
}

#[test]
fn concise_is_one_line_per_finding() {
    let out = concise::render(&report());
    assert_eq!(
        out,
        "docker-compose.yml:7:9: config.redis-url-host REDIS_URL host 'redis' is not a service, container_name or alias; did you mean 'beagle-redis'?\n\
         docker-compose.yml:15:14: config.redis-timeout beagle-redis runs with timeout 0: idle clients are never closed\n\
         redis://default:****@beagle-redis:6379/0: redis.connect connection refused by beagle-redis:6379 (172.18.0.2)\n\
         open-webui: docker.env-drift open-webui runs with REDIS_URL=redis://redis:6379, the files say redis://beagle-redis:6379/0: container not recreated\n"
    );
    // A hostile message stays on its line and cannot colour the terminal.
    let hostile = concise::render(&hostile_report());
    for line in hostile.lines() {
        assert!(
            line.starts_with("a|b`c<d>.yml:1:1: config.redis-url-host ")
                || line.contains(": ws.sticky-session one round"),
            "{hostile}"
        );
        assert!(!line.contains('\u{1b}'), "{hostile}");
    }
    assert_eq!(hostile.lines().count(), 2, "{hostile}");
}

#[test]
fn gitlab_and_concise_through_the_binary_name_files_from_the_repository_root() {
    let test = "gitlab_and_concise_through_the_binary_name_files_from_the_repository_root";
    let Some(repo) = git_repo_with_seed(test) else {
        return;
    };
    let root = repo.path();
    let report_file = root.join("gl-code-quality-report.json");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_wsdoctor"))
        .args([
            "lint",
            "--project-dir",
            "deploy",
            "--format",
            "gitlab",
            "-o",
        ])
        .arg(&report_file)
        .args(["--format", "concise"])
        .current_dir(root)
        .env("NO_COLOR", "1")
        .env_remove("COMPOSE_FILE")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let concise = String::from_utf8(out.stdout).unwrap();
    assert!(
        concise.starts_with("deploy/docker-compose.yml:7:"),
        "{concise}"
    );
    assert!(
        concise
            .lines()
            .any(|l| l.contains(": config.redis-url-host ")),
        "{concise}"
    );
    let issues: Value =
        serde_json::from_str(&std::fs::read_to_string(&report_file).unwrap()).unwrap();
    let errs = errors(&validator(&gitlab_schema()), &issues);
    assert!(errs.is_empty(), "{errs:#?}");
    let host = issues
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["check_name"] == "config.redis-url-host")
        .unwrap();
    assert_eq!(host["location"]["path"], "deploy/docker-compose.yml");
    assert_eq!(host["location"]["lines"]["begin"], 7);
    assert_eq!(host["severity"], "major");
    assert_eq!(concise.lines().count(), issues.as_array().unwrap().len());
}

// ---------------------------------------------------------------------------------------------
// JUnit names and places, through the binary

#[test]
fn junit_names_are_unique_and_cases_carry_file_and_line() {
    // One service with both REDIS_URL and WEBSOCKET_REDIS_URL: every URL check runs twice on
    // the subject `open-webui`.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("docker-compose.yml"),
        "services:\n  open-webui:\n    image: ghcr.io/open-webui/open-webui:main\n    environment:\n      - UVICORN_WORKERS=2\n      - WEBSOCKET_MANAGER=redis\n      - REDIS_URL=redis://redis:6379/0\n      - WEBSOCKET_REDIS_URL=redis://redis:6379/0\n  beagle-redis:\n    image: redis:7\n",
    )
    .unwrap();
    let (code, xml) = wsdoctor_in(dir.path(), &["lint", "--format", "junit"]);
    assert_eq!(code, 1, "{xml}");
    let (_, cases) = parse_junit(&xml);
    let mut keys: Vec<(String, String)> = cases
        .iter()
        .map(|c| (c.classname.clone(), c.name.clone()))
        .collect();
    let all = keys.len();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), all, "duplicate testcase names:\n{xml}");
    let host: Vec<&Case> = cases
        .iter()
        .filter(|c| c.name.starts_with("config.redis-url-host [open-webui]"))
        .collect();
    assert_eq!(host.len(), 2, "{xml}");
    assert_eq!(
        host[0].name,
        "config.redis-url-host [open-webui] (docker-compose.yml:7)"
    );
    assert_eq!(
        host[1].name,
        "config.redis-url-host [open-webui] (docker-compose.yml:8)"
    );
    for (c, line) in host.iter().zip(["7", "8"]) {
        assert_eq!(c.file, "docker-compose.yml");
        assert_eq!(c.line, line);
        assert_eq!(c.outcome, "failure");
    }
    // A name that is not shared stays short; a result without a place has no file attribute.
    let manager = cases
        .iter()
        .find(|c| c.name.starts_with("config.websocket-manager"))
        .unwrap();
    assert_eq!(manager.name, "config.websocket-manager [open-webui]");
    let missing = cases
        .iter()
        .find(|c| c.name.starts_with("config.redis-url-missing"))
        .unwrap();
    assert_eq!(missing.file, "");
}

#[test]
fn junit_numbers_results_that_share_a_name_and_a_place() {
    let same = || {
        REDIS_TIMEOUT
            .fire("timeout 0")
            .at(at("compose.yaml", 3, 1))
            .subject("r")
    };
    let r = Report::finish(
        "lint",
        vec![same(), same(), REDIS_TIMEOUT.pass("fine").subject("s")],
        &Suppressions::default(),
        false,
        Duration::ZERO,
        Secrets::new(),
    );
    let (_, cases) = parse_junit(&junit::render(&r));
    let names: Vec<&str> = cases.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "config.redis-timeout [r] (compose.yaml:3)",
            "config.redis-timeout [r] (compose.yaml:3) #2",
            "config.redis-timeout [s]",
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// `explain` and `checks` honour --format

/// `wsdoctor <args>` from the crate root: (exit code, stdout, stderr).
fn wsdoctor_full(args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_wsdoctor"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn explain_and_checks_write_json_when_asked() {
    let (code, out, err) = wsdoctor_full(&["explain", "config.redis-url-host", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let rule: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(rule["id"], "config.redis-url-host");
    assert_eq!(rule["severity"], "error");
    assert_eq!(rule["family"], "config");
    for key in ["title", "summary", "why", "fix"] {
        assert!(!rule[key].as_str().unwrap().is_empty(), "{key}: {rule:#}");
    }
    assert!(
        rule["help_uri"]
            .as_str()
            .unwrap()
            .ends_with("docs/checks.md#configredis-url-host"),
        "{rule:#}"
    );
    // The global option before the command works the same.
    let (_, before, _) = wsdoctor_full(&["--format", "json", "explain", "config.redis-url-host"]);
    assert_eq!(before, out);
    // Text stays the default.
    let (_, text, _) = wsdoctor_full(&["explain", "config.redis-url-host"]);
    assert!(
        text.starts_with("config.redis-url-host (error): "),
        "{text}"
    );

    let (code, out, err) = wsdoctor_full(&["checks", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let rules: Value = serde_json::from_str(&out).unwrap();
    let rules = rules.as_array().unwrap();
    let text_lines = wsdoctor_full(&["checks"]).1.lines().count();
    assert_eq!(rules.len(), text_lines);
    assert!(
        rules
            .iter()
            .all(|r| r["help_uri"].is_string() && r["family"].is_string())
    );
    assert!(rules.iter().any(|r| r["id"] == "config.redis-url-host"));

    // -o writes the file; markdown is the page docs/checks.md holds.
    let dir = tempfile::tempdir().unwrap();
    let md = dir.path().join("checks.md");
    let (code, out, _) =
        wsdoctor_full(&["checks", "--format", "markdown", "-o", md.to_str().unwrap()]);
    assert_eq!((code, out.as_str()), (0, ""));
    let docs = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/checks.md"),
    )
    .unwrap();
    assert_eq!(std::fs::read_to_string(&md).unwrap(), docs);

    // A format these commands have no form for: text, and a note saying so.
    for (args, text) in [
        (
            &["checks", "--format", "sarif"][..],
            wsdoctor_full(&["checks"]).1,
        ),
        (
            &["explain", "config.redis-url-host", "--format", "junit"][..],
            wsdoctor_full(&["explain", "config.redis-url-host"]).1,
        ),
    ] {
        let (code, out, err) = wsdoctor_full(args);
        assert_eq!((code, &out), (0, &text), "{args:?}");
        assert!(err.contains("text, json or markdown"), "{err}");
    }
}
