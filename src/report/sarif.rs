//! `--format sarif`: SARIF 2.1.0 for GitHub code scanning (and any other SARIF viewer).
//!
//! * `tool.driver.rules` holds every rule of the catalogue (so a viewer can show any rule's
//!   help), plus a minimal descriptor for a result whose id is not in the catalogue.
//! * A result is emitted for each `warn` (level `warning`) and `fail` (level `error`), including
//!   suppressed ones, which carry `suppressions: [{kind: "inSource"|"external", justification}]`
//!   (an inline `# wsdoctor: ignore=` comment is in source; `--ignore` is external). Passing and
//!   skipped checks are not results: SARIF results are findings.
//! * Every rule has a `helpUri`: its section of docs/checks.md.
//! * Every result has `partialFingerprints["wsdoctor/v1"]` ([`CheckResult::stable_key`]): the
//!   same finding keeps it when lines are inserted above it, so code scanning does not close
//!   and reopen its alert.
//! * Locations: `artifactLocation.uri` is the path as the report shows it: relative to the
//!   repository root (see [`crate::report::paths`]), with `uriBaseId: "%SRCROOT%"`, and
//!   `originalUriBaseIds` saying where `%SRCROOT%` is on this machine when it is known; an
//!   absolute path becomes a `file://` URI. GitHub code scanning
//!   rejects a result without a location and needs `region.startLine`, so:
//!   - a finding about a whole file (no line) is anchored at line 1;
//!   - a finding with no file at all (a live Redis, WebSocket or Docker probe) is anchored at the
//!     first file the report mentions, line 1, and says so in `properties.anchored`; when the
//!     report mentions no file (`wsdoctor redis URL`), the result has no location: valid SARIF,
//!     but GitHub will refuse the upload, which only makes sense for `lint` and `diagnose`.

use serde_json::{Value, json};
use serde_sarif::sarif;

use crate::catalogue::{Rule, Severity};
use crate::report::{CheckResult, Report, Status};

/// The base id of every relative `artifactLocation`: the repository root.
const SRCROOT: &str = "%SRCROOT%";

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// The report as SARIF, with the rules of the real catalogue.
pub fn render(report: &Report) -> String {
    render_with_rules(report, &crate::catalogue::all())
}

/// The report as SARIF, describing `rules` (tests pass their own).
pub fn render_with_rules(report: &Report, rules: &[&Rule]) -> String {
    // One descriptor per id: code scanning keys rules by id.
    let mut descriptors: Vec<sarif::ReportingDescriptor> = Vec::with_capacity(rules.len());
    let mut ids: Vec<&str> = Vec::with_capacity(rules.len());
    for rule in rules {
        if !ids.contains(&rule.id) {
            ids.push(rule.id);
            descriptors.push(rule_descriptor(rule));
        }
    }
    // Results whose rule the catalogue does not list still need a rule to point at.
    for c in &report.checks {
        if is_finding(c) && !ids.contains(&c.id) {
            ids.push(c.id);
            descriptors.push(minimal_descriptor(c));
        }
    }
    let anchor = report
        .checks
        .iter()
        .find_map(|c| c.location.as_ref())
        .map(|l| l.file.clone());
    let results: Vec<sarif::Result> = report
        .checks
        .iter()
        .filter(|c| is_finding(c))
        .map(|c| {
            let index = ids.iter().position(|id| *id == c.id).unwrap_or(0);
            result(c, index, anchor.as_deref())
        })
        .collect();

    let mut run_bases = None;
    if let Some(root) = srcroot(report) {
        let mut map = std::collections::BTreeMap::new();
        map.insert(
            SRCROOT.to_string(),
            sarif::ArtifactLocation::builder().uri(root).build(),
        );
        run_bases = Some(map);
    }
    let mut driver = sarif::ToolComponent::builder()
        .name(report.tool.name)
        .version(report.tool.version)
        .semantic_version(report.tool.version)
        .rules(descriptors)
        .build();
    let info = env!("CARGO_PKG_REPOSITORY");
    let info = if info.is_empty() {
        env!("CARGO_PKG_HOMEPAGE")
    } else {
        info
    };
    if !info.is_empty() {
        driver.information_uri = Some(info.to_string());
    }
    let mut run = sarif::Run::builder()
        .tool(sarif::Tool::builder().driver(driver).build())
        .results(results)
        // GitHub uses the id's prefix as the analysis category: one per command.
        .automation_details(
            sarif::RunAutomationDetails::builder()
                .id(format!("wsdoctor/{}/", report.command))
                .build(),
        )
        .invocations(vec![
            sarif::Invocation::builder()
                .execution_successful(true)
                .properties(property_bag(vec![
                    ("verdict", json!(report.summary.verdict.as_str())),
                    ("strict", json!(report.summary.strict)),
                    ("duration_ms", json!(report.duration_ms)),
                ]))
                .build(),
        ])
        .build();
    run.original_uri_base_ids = run_bases;
    let log = sarif::Sarif::builder()
        .schema(SCHEMA)
        .version(json!("2.1.0"))
        .runs(vec![run])
        .build();
    // Serializing plain data with string keys cannot fail.
    let mut s = serde_json::to_string_pretty(&log).unwrap_or_else(|_| "{}".to_string());
    s.push('\n');
    s
}

/// Warnings and failures are SARIF results (suppressed ones too, marked as such).
fn is_finding(c: &CheckResult) -> bool {
    matches!(c.status, Status::Warn | Status::Fail)
}

/// Where `%SRCROOT%` is, as a `file://` URI ending in `/` (SARIF §3.14.14): the directory the
/// report's first relative path resolves against. None when no file is named or the base
/// cannot be found (the results keep `uriBaseId`, which GitHub resolves to the checkout).
fn srcroot(report: &Report) -> Option<String> {
    let first = report
        .checks
        .iter()
        .filter_map(|c| c.location.as_ref())
        .map(|l| l.file.as_str())
        .find(|f| file_uri(f).1)?;
    let cwd = std::env::current_dir().ok()?;
    let root = crate::report::paths::root_of(first, &cwd)?;
    let (uri, relative) = file_uri(&root.to_string_lossy());
    if relative {
        return None;
    }
    Some(if uri.ends_with('/') {
        uri
    } else {
        format!("{uri}/")
    })
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// `config.redis-url-host` → `ConfigRedisUrlHost`: SARIF wants `name` to be an identifier
/// (§3.49.7), distinct from the id.
fn pascal_name(id: &str) -> String {
    id.split(['.', '-', '_'])
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            match chars.next() {
                Some(first) => first.to_uppercase().chain(chars).collect::<String>(),
                None => String::new(),
            }
        })
        .collect()
}

fn message_string(text: impl Into<String>) -> sarif::MultiformatMessageString {
    sarif::MultiformatMessageString::builder()
        .text(text.into())
        .build()
}

fn property_bag(props: Vec<(&str, Value)>) -> sarif::PropertyBag {
    let mut bag = sarif::PropertyBag::builder().build();
    for (k, v) in props {
        bag.additional_properties.insert(k.to_string(), v);
    }
    bag
}

fn rule_descriptor(rule: &Rule) -> sarif::ReportingDescriptor {
    let help = sarif::MultiformatMessageString::builder()
        .text(format!("{}\n\nFix: {}", rule.why, rule.fix))
        .markdown(format!("**Why.** {}\n\n**Fix.** {}", rule.why, rule.fix))
        .build();
    let mut bag = property_bag(vec![]);
    bag.tags = Some(vec!["wsdoctor".to_string(), rule.family().to_string()]);
    sarif::ReportingDescriptor::builder()
        .id(rule.id)
        .name(pascal_name(rule.id))
        .short_description(message_string(rule.title))
        .full_description(message_string(rule.summary))
        .help(help)
        .help_uri(crate::catalogue::help_uri(rule.id))
        .default_configuration(
            sarif::ReportingConfiguration::builder()
                .level(json!(level(rule.severity)))
                .build(),
        )
        .properties(bag)
        .build()
}

fn minimal_descriptor(c: &CheckResult) -> sarif::ReportingDescriptor {
    sarif::ReportingDescriptor::builder()
        .id(c.id)
        .name(pascal_name(c.id))
        .short_description(message_string(c.title))
        .default_configuration(
            sarif::ReportingConfiguration::builder()
                .level(json!(level(c.severity)))
                .build(),
        )
        .build()
}

fn result(c: &CheckResult, rule_index: usize, anchor: Option<&str>) -> sarif::Result {
    let result_level = match c.status {
        Status::Fail => sarif::ResultLevel::Error,
        _ => sarif::ResultLevel::Warning,
    };
    let mut text = String::new();
    if let Some(subject) = &c.subject {
        text.push_str(&format!("[{subject}] "));
    }
    text.push_str(&c.message);
    if let Some(hint) = &c.hint {
        text.push_str("\nFix: ");
        text.push_str(hint);
    }
    let mut props: Vec<(&str, Value)> = vec![("status", json!(c.status.as_str()))];
    if let Some(subject) = &c.subject {
        props.push(("subject", json!(subject)));
    }
    if let Some(cause) = &c.caused_by {
        props.push(("caused_by", json!(cause)));
    }
    if !c.evidence.is_empty() {
        props.push(("evidence", Value::Object(c.evidence.clone())));
    }
    let location = match (&c.location, anchor) {
        (Some(loc), _) => Some(physical(&loc.file, loc.line, loc.column)),
        (None, Some(file)) => {
            props.push(("anchored", json!(true)));
            Some(physical(file, None, None))
        }
        (None, None) => None,
    };
    let mut fingerprints = std::collections::BTreeMap::new();
    fingerprints.insert("wsdoctor/v1".to_string(), c.stable_key());
    let mut r = sarif::Result::builder()
        .rule_id(c.id)
        .partial_fingerprints(fingerprints)
        .rule_index(i64::try_from(rule_index).unwrap_or(0))
        .level(result_level)
        .message(sarif::Message::builder().text(text).build())
        .properties(property_bag(props))
        .build();
    if let Some(loc) = location {
        r.locations = Some(vec![loc]);
    }
    if let Some(sup) = &c.suppressed {
        let kind = if sup.kind == "inline" {
            "inSource"
        } else {
            "external"
        };
        let mut s = sarif::Suppression::builder()
            .kind(json!(kind))
            .status(json!("accepted"))
            .justification(
                sup.reason
                    .clone()
                    .unwrap_or_else(|| "no reason given".to_string()),
            )
            .build();
        if let Some(at) = &sup.location {
            s.location = Some(physical(&at.file, at.line, at.column));
        }
        r.suppressions = Some(vec![s]);
    }
    r
}

fn physical(file: &str, line: Option<u32>, column: Option<u32>) -> sarif::Location {
    let (uri, base) = file_uri(file);
    let mut artifact = sarif::ArtifactLocation::builder().uri(uri).build();
    if base {
        artifact.uri_base_id = Some(SRCROOT.to_string());
    }
    // GitHub needs startLine; a whole-file finding starts at line 1.
    let mut region = sarif::Region::builder()
        .start_line(i64::from(line.unwrap_or(1).max(1)))
        .build();
    if line.is_some()
        && let Some(col) = column
    {
        region.start_column = Some(i64::from(col.max(1)));
    }
    sarif::Location::builder()
        .physical_location(
            sarif::PhysicalLocation::builder()
                .artifact_location(artifact)
                .region(region)
                .build(),
        )
        .build()
}

/// A file path as a URI reference (RFC 3986): `/` separators, every byte outside the
/// unreserved set and `/` percent-encoded. Relative paths stay relative (`true`: resolve
/// against `%SRCROOT%`); absolute ones become `file://` URIs.
fn file_uri(file: &str) -> (String, bool) {
    let unix = file.replace('\\', "/");
    let unix = unix.strip_prefix("./").unwrap_or(&unix);
    let is_windows_abs = unix.len() > 2
        && unix.as_bytes()[1] == b':'
        && unix.as_bytes()[0].is_ascii_alphabetic()
        && unix.as_bytes()[2] == b'/';
    let encode = |s: &str| {
        let mut out = String::with_capacity(s.len());
        for b in s.bytes() {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
                out.push(b as char);
            } else {
                out.push_str(&format!("%{b:02X}"));
            }
        }
        out
    };
    if unix.starts_with('/') {
        (format!("file://{}", encode(unix)), false)
    } else if is_windows_abs {
        (
            format!("file:///{}:{}", &unix[..1], encode(&unix[2..])),
            false,
        )
    } else {
        (encode(unix), true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris() {
        assert_eq!(
            file_uri("docker-compose.yml"),
            ("docker-compose.yml".into(), true)
        );
        assert_eq!(
            file_uri("./deploy/my compose.yml"),
            ("deploy/my%20compose.yml".into(), true)
        );
        assert_eq!(file_uri("a#b?.env"), ("a%23b%3F.env".into(), true));
        assert_eq!(
            file_uri("/srv/app/.env"),
            ("file:///srv/app/.env".into(), false)
        );
        assert_eq!(
            file_uri("C:\\app\\compose.yaml"),
            ("file:///C:/app/compose.yaml".into(), false)
        );
    }

    #[test]
    fn names() {
        assert_eq!(pascal_name("config.redis-url-host"), "ConfigRedisUrlHost");
        assert_eq!(pascal_name("ws.eio-version"), "WsEioVersion");
    }
}
