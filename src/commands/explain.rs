//! `wsdoctor explain ID`: a rule's documentation, from its catalogue entry.

use std::io::Write;

use crate::catalogue::{self, Rule};
use crate::commands::write_stdout;

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

pub fn run(id: &str) -> u8 {
    match catalogue::find(id) {
        Some(rule) => {
            write_stdout(&document(rule));
            0
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

/// The anchor of a rule's section in docs/checks.md (`## config.redis-url-host`), as GitHub
/// and GitLab make it from the heading: lowercase, `.` dropped, `-` kept.
pub fn anchor(id: &str) -> String {
    id.chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, '-' | '_'))
        .flat_map(char::to_lowercase)
        .collect()
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
            anchor(r.id),
            r.severity.as_str(),
            r.title
        ));
    }
    for r in &rules {
        out.push_str(&format!(
            "\n## {}\n\n**{}** · severity `{}`\n\n{}\n\n**Why it matters.** {}\n\n**How to fix.** {}\n",
            r.id,
            r.title,
            r.severity.as_str(),
            r.summary,
            r.why,
            r.fix
        ));
    }
    out
}
