//! `--format github`: GitHub Actions workflow commands, one annotation per finding.
//!
//! `::error file=F,line=L,col=C,title=ID::message` for a `fail`, `::warning …` for a `warn`;
//! nothing for passes and skips. A suppressed finding is not annotated (it was accepted, with a
//! reason): it gets a plain log line instead, so it is still visible, never silently dropped.
//! The last line is the summary, as plain text.
//!
//! Escaping follows the runner (actions/toolkit `command.ts`): in the message `%` → `%25`,
//! `\r` → `%0D`, `\n` → `%0A`; in property values also `:` → `%3A` and `,` → `%2C`. Because a
//! newline in a hostile value is escaped, it cannot start a workflow command of its own.
//! Other control characters (an ANSI escape) are shown as `\u{1b}`.

use std::fmt::Write;

use crate::report::{CheckResult, Report, Status};

pub fn render(report: &Report) -> String {
    let mut out = String::new();
    for c in report.by_importance() {
        if !matches!(c.status, Status::Warn | Status::Fail) {
            continue;
        }
        if c.counts() {
            annotate(&mut out, c);
        } else {
            let reason = c
                .suppressed
                .as_ref()
                .and_then(|s| s.reason.as_deref())
                .unwrap_or("no reason given");
            let mut line = format!("suppressed {} {}", c.status.as_str(), c.id);
            if let Some(subject) = &c.subject {
                let _ = write!(line, " [{subject}]");
            }
            let _ = write!(line, ": {reason} (finding: {})", c.message);
            out.push_str(&plain(&line));
            out.push('\n');
        }
    }
    out.push_str(&plain(&crate::report::text::headline(report)));
    out.push('\n');
    out
}

fn annotate(out: &mut String, c: &CheckResult) {
    let command = if c.status == Status::Fail {
        "error"
    } else {
        "warning"
    };
    let mut props: Vec<String> = Vec::new();
    if let Some(loc) = &c.location {
        props.push(format!("file={}", property(&loc.file)));
        if let Some(line) = loc.line {
            props.push(format!("line={line}"));
            if let Some(col) = loc.column {
                props.push(format!("col={col}"));
            }
        }
    }
    props.push(format!(
        "title={}",
        property(&format!("{}: {}", c.id, c.title))
    ));
    let mut message = String::new();
    if let Some(subject) = &c.subject {
        let _ = write!(message, "[{subject}] ");
    }
    message.push_str(&c.message);
    if let Some(cause) = crate::report::cause_to_show(c) {
        let _ = write!(message, "\nBecause: {cause}");
    }
    if let Some(hint) = &c.hint {
        let _ = write!(message, "\nFix: {hint}");
    }
    let _ = writeln!(out, "::{command} {}::{}", props.join(","), data(&message));
}

/// A command's data (the message).
fn data(s: &str) -> String {
    visible_controls(s)
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A command property value.
fn property(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}

/// A plain log line: one line whatever the text holds, and no `::` at its start that the
/// runner would read as a command.
fn plain(s: &str) -> String {
    let one_line = visible_controls(s).replace('\r', "\\r").replace('\n', " ");
    if one_line.starts_with("::") {
        format!(" {one_line}")
    } else {
        one_line
    }
}

/// Control characters other than `\n`/`\r` (an ESC that would colour or rewrite the log) made
/// visible as `\u{..}`.
fn visible_controls(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() && c != '\n' && c != '\r' {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_the_runner() {
        assert_eq!(data("50% done\r\nnext"), "50%25 done%0D%0Anext");
        assert_eq!(property("a:b,c%"), "a%3Ab%2Cc%25");
        assert_eq!(data("\u{1b}[31mred"), "\\u{1b}[31mred");
        assert_eq!(
            plain("::error::x\n::warning::y"),
            " ::error::x ::warning::y"
        );
    }
}
