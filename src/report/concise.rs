//! `--format concise`: one line per finding, for editors (`errorformat` `%f:%l:%c: %m`,
//! VS Code problem matchers) and grep:
//!
//! ```text
//! deploy/docker-compose.yml:12:29: config.redis-url-host open-webui WEBSOCKET_REDIS_URL: host 'redis' …
//! http://localhost:3000: ws.socketio-connect CONNECT was never answered
//! ```
//!
//! `path:line:col: ID message` (`path:line: …` or `path: …` when the finding has no line or
//! column); a finding with no file starts with its subject, or `wsdoctor` when it has none.
//! Only warnings and failures that count (suppressed ones were accepted), ordered by file and
//! line, file-less findings last. A passing run prints nothing. Each line is one line whatever
//! the message holds: newlines become spaces and other control characters are shown as
//! `\u{..}`, so a hostile value cannot forge a line or colour the terminal.

use std::fmt::Write;

use crate::report::{CheckResult, Report, Status};

pub fn render(report: &Report) -> String {
    let mut findings: Vec<&CheckResult> = report
        .checks
        .iter()
        .filter(|c| c.counts() && matches!(c.status, Status::Warn | Status::Fail))
        .collect();
    // Stable: findings on the same line keep the order the checks ran in.
    findings.sort_by_key(|c| match &c.location {
        Some(l) => (
            false,
            l.file.clone(),
            l.line.unwrap_or(0),
            l.column.unwrap_or(0),
        ),
        None => (true, String::new(), 0, 0),
    });
    let mut out = String::new();
    for c in findings {
        let place = match (&c.location, &c.subject) {
            (Some(loc), _) => loc.to_string(),
            (None, Some(subject)) => subject.clone(),
            (None, None) => "wsdoctor".to_string(),
        };
        let _ = writeln!(
            out,
            "{}: {} {}",
            one_line(&place),
            c.id,
            one_line(&c.message)
        );
    }
    out
}

fn one_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '\n' | '\r' | '\t' => out.push(' '),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_whatever_the_value() {
        assert_eq!(one_line("a\nb\r\n\u{1b}[31m"), "a b  \\u{1b}[31m");
    }
}
