//! `wsdoctor explain ID`: a rule's documentation, from its catalogue entry, as text or (with
//! `--format json`) as one JSON object; `--format markdown` gives its section of
//! docs/checks.md. The helpers here serve `wsdoctor checks` too.

use std::io::Write;

use serde::Serialize;

use crate::catalogue::{self, Rule, Severity};
use crate::cli::{Format, GlobalOpts};
use crate::commands::write_stdout;

/// A rule as `explain --format json` and `checks --format json` write it: the catalogue entry
/// plus its family and the address of its documentation.
#[derive(Debug, Serialize)]
pub struct RuleDoc<'a> {
    pub id: &'a str,
    pub severity: Severity,
    pub title: &'a str,
    pub summary: &'a str,
    pub why: &'a str,
    pub fix: &'a str,
    pub family: &'a str,
    /// The rule's section of docs/checks.md (as SARIF `helpUri`).
    pub help_uri: String,
}

impl<'a> RuleDoc<'a> {
    pub fn of(rule: &'a Rule) -> Self {
        RuleDoc {
            id: rule.id,
            severity: rule.severity,
            title: rule.title,
            summary: rule.summary,
            why: rule.why,
            fix: rule.fix,
            family: rule.family(),
            help_uri: catalogue::help_uri(rule.id),
        }
    }
}

/// A format these commands have no form for (a catalogue is not a report: no SARIF results,
/// no test cases): they write text, and say so on stderr so a pipeline log shows why.
pub fn fallback_note(command: &str, format: Format) {
    let name = format!("{format:?}").to_lowercase();
    let _ = writeln!(
        std::io::stderr(),
        "note: {command} writes --format text, json or markdown; {name} given, writing text"
    );
}

/// Writes `body` to the first `--output` when one is given, else to stdout.
pub fn emit(global: &GlobalOpts, body: &str) -> u8 {
    match global.outputs.first() {
        Some(path) => match std::fs::write(path, body) {
            Ok(()) => 0,
            Err(e) => {
                let _ = writeln!(
                    std::io::stderr(),
                    "error: {}: cannot write: {e}",
                    path.display()
                );
                2
            }
        },
        None => {
            write_stdout(body);
            0
        }
    }
}

/// The documentation of one rule as Markdown-flavoured text (also used for docs/checks.md).
pub fn document(rule: &Rule) -> String {
    format!(
        "{id} ({severity}): {title}\n\nWhat it looks at\n  {summary}\n\nWhy it matters\n{why}\n\nHow to fix\n{fix}\n",
        id = rule.id,
        severity = rule.severity.as_str(),
        title = rule.title,
        summary = rule.summary,
        why = indent(rule.why),
        fix = indent(rule.fix),
    )
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| {
            if l.is_empty() {
                String::new()
            } else {
                format!("  {l}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn run(id: &str, global: &GlobalOpts) -> u8 {
    match catalogue::find(id) {
        Some(rule) => {
            let body = match global.formats.first().copied().unwrap_or(Format::Text) {
                Format::Text => document(rule),
                Format::Json => {
                    let mut s =
                        serde_json::to_string_pretty(&RuleDoc::of(rule)).unwrap_or_default();
                    s.push('\n');
                    s
                }
                Format::Markdown => section_markdown(rule),
                other => {
                    fallback_note("explain", other);
                    document(rule)
                }
            };
            emit(global, &body)
        }
        None => {
            let mut err = std::io::stderr();
            let _ = match catalogue::nearest(id) {
                Some(near) => writeln!(
                    err,
                    "error: no check '{id}'; did you mean '{near}'? (wsdoctor checks lists them all)"
                ),
                None => writeln!(
                    err,
                    "error: no check '{id}' (wsdoctor checks lists them all)"
                ),
            };
            2
        }
    }
}

/// The whole catalogue as one Markdown page (docs/checks.md is generated from it).
pub fn catalogue_markdown() -> String {
    let mut out = String::from(
        "# wsdoctor checks\n\n<!-- Generated from the catalogue in src/checks by \
         `WSDOCTOR_UPDATE_DOCS=1 cargo test --test docs`; do not edit by hand. -->\n\n\
         | id | severity | title |\n|---|---|---|\n",
    );
    let rules = catalogue::all();
    for r in &rules {
        out.push_str(&format!(
            "| [`{}`](#{}) | {} | {} |\n",
            r.id,
            catalogue::anchor(r.id),
            r.severity.as_str(),
            r.title
        ));
    }
    for r in &rules {
        out.push('\n');
        out.push_str(&section_markdown(r));
    }
    out
}

/// One rule's section of docs/checks.md.
pub fn section_markdown(r: &Rule) -> String {
    format!(
        "## {}\n\n**{}** · severity `{}`\n\n{}\n\n**Why it matters.** {}\n\n**How to fix.** {}\n",
        r.id,
        r.title,
        r.severity.as_str(),
        r.summary,
        r.why,
        r.fix
    )
}
