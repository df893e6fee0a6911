//! `--format markdown`: a report to paste into a GitHub issue or a bug ticket.
//!
//! Layout: a title line with the verdict, a summary table, the fix list (one item per root
//! cause with its location; what it also explains or who else reported it as a nested list),
//! the failing checks then the warnings (each with location, subject, cause, message, fix and
//! its evidence folded in a `<details>` block), then one folded `<details>` with the skipped,
//! suppressed and passed checks as a table (skips giving the same reason as one row).
//!
//! Every string that comes from the user's files or servers goes through [`text`], [`cell`]
//! or `code`, so a hostile value (a `|`, a backtick run, `<script>`, a newline
//! followed by `# heading`) stays text and cannot break the layout. Tokens with an `@` are
//! put in code spans: GitHub turns `****@redis` into a mention of the user `redis`
//! everywhere except in code.

use std::fmt::Write;

use crate::report::{
    CheckResult, Report, SkipGroup, SkipNames, Status, Verdict, cause_to_show, parse_cause_ref,
    skip_groups,
};

/// `--quiet`: the verdict, the fix list and the warnings and failures; no table of skipped,
/// suppressed and passed checks.
pub fn render_quiet(report: &Report) -> String {
    render_parts(report, true)
}

pub fn render(report: &Report) -> String {
    render_parts(report, false)
}

fn render_parts(report: &Report, quiet: bool) -> String {
    let mut out = String::new();
    let s = &report.summary;
    let verdict = match s.verdict {
        Verdict::Pass => "✅ PASS",
        Verdict::Warn => "⚠️ PASS with warnings",
        Verdict::Fail => "❌ FAIL",
    };
    let _ = writeln!(out, "## wsdoctor {}: {verdict}", text(&report.command));
    out.push('\n');
    let _ = writeln!(
        out,
        "wsdoctor {} · {} · {} ms{}",
        text(report.tool.version),
        code(&report.command, false),
        report.duration_ms,
        if s.strict {
            " · `--strict`: warnings fail"
        } else {
            ""
        }
    );
    out.push('\n');
    out.push_str("| pass | warn | fail | skip | suppressed |\n");
    out.push_str("|---:|---:|---:|---:|---:|\n");
    let _ = writeln!(
        out,
        "| {} | {} | {} | {} | {} |",
        s.pass, s.warn, s.fail, s.skip, s.suppressed
    );

    let fixes = report.fix_list();
    if !fixes.is_empty() {
        out.push_str("\n**To fix, in order:**\n\n");
        for (i, item) in fixes.iter().enumerate() {
            let marker = format!("{}. ", i + 1);
            let _ = writeln!(out, "{marker}{}: {}", name_at(item.result), text(&item.fix));
            // A nested list: indented to the item's content, it stays inside the item.
            let indent = " ".repeat(marker.len());
            if !item.explains.is_empty() {
                let _ = writeln!(out, "{indent}- also explains: {}", names(&item.explains));
            }
            if !item.also_reported_by.is_empty() {
                let _ = writeln!(
                    out,
                    "{indent}- also reported by: {}",
                    item.also_reported_by
                        .iter()
                        .map(|c| name_at(c))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
        }
    }

    let ordered = report.by_importance();
    let failing: Vec<&CheckResult> = ordered
        .iter()
        .copied()
        .filter(|c| c.counts() && c.status == Status::Fail)
        .collect();
    let warnings: Vec<&CheckResult> = ordered
        .iter()
        .copied()
        .filter(|c| c.counts() && c.status == Status::Warn)
        .collect();
    // A warning fails the run under --strict: say so in its heading, as the verdict does.
    let warn_heading = if s.strict {
        "Warnings (failing: --strict)"
    } else {
        "Warnings"
    };
    for (heading, icon, group) in [
        ("Failing checks", "❌", &failing),
        (warn_heading, "⚠️", &warnings),
    ] {
        if group.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n### {heading} ({})", group.len());
        for c in group.iter() {
            write_finding(&mut out, c, icon);
        }
    }

    if quiet {
        return out;
    }
    let skipped: Vec<&CheckResult> = ordered
        .iter()
        .copied()
        .filter(|c| c.counts() && c.status == Status::Skip)
        .collect();
    let suppressed: Vec<&CheckResult> = ordered.iter().copied().filter(|c| !c.counts()).collect();
    let passed: Vec<&CheckResult> = ordered
        .iter()
        .copied()
        .filter(|c| c.counts() && c.status == Status::Pass)
        .collect();
    if skipped.len() + suppressed.len() + passed.len() > 0 {
        out.push('\n');
        let _ = writeln!(
            out,
            "<details><summary>Skipped ({}), suppressed ({}) and passed ({}) checks</summary>",
            skipped.len(),
            suppressed.len(),
            passed.len()
        );
        // A blank line after the HTML tag ends the HTML block, so the table is Markdown again.
        out.push('\n');
        out.push_str("| status | check | subject | detail |\n");
        out.push_str("|---|---|---|---|\n");
        // Skips with one reason are one row (JSON, SARIF and JUnit keep every result).
        for group in skip_groups(skipped.iter().copied()) {
            if let [one] = group.results.as_slice() {
                row(&mut out, "skip", one, &with_cause(one, &one.message));
            } else {
                group_row(&mut out, &group);
            }
        }
        for c in &suppressed {
            // `warn (inline comment at .env:3): reason — finding at .env:3:21: message`
            let mut how = c.suppressed.as_ref().map_or(String::new(), |sup| {
                match sup.kind {
                    "inline" => "inline comment",
                    "cli" => "--ignore",
                    "config" => "config file",
                    other => other,
                }
                .to_string()
            });
            if let Some(at) = c.suppressed.as_ref().and_then(|sup| sup.location.as_ref()) {
                let _ = write!(how, " at {at}");
            }
            let reason = c
                .suppressed
                .as_ref()
                .and_then(|sup| sup.reason.as_deref())
                .unwrap_or("no reason given");
            let mut detail = format!("{} ({how}): {reason} — finding", c.status.as_str());
            if let Some(loc) = &c.location {
                let _ = write!(detail, " at {loc}");
            }
            let _ = write!(detail, ": {}", c.message);
            row(&mut out, "suppressed", c, &detail);
        }
        for c in &passed {
            row(&mut out, "pass", c, &with_cause(c, &c.message));
        }
        out.push_str("\n</details>\n");
    }
    out
}

fn write_finding(out: &mut String, c: &CheckResult, icon: &str) {
    let _ = writeln!(out, "\n#### {icon} `{}` {}", c.id, text(c.title));
    out.push('\n');
    if let Some(loc) = &c.location {
        let _ = writeln!(out, "- **Location:** {}", code(&loc.to_string(), false));
    }
    if let Some(subject) = &c.subject {
        let _ = writeln!(out, "- **Subject:** {}", code(subject, false));
    }
    if let Some(cause) = cause_to_show(c) {
        let _ = writeln!(out, "- **Because:** {}", cause_name(cause, false));
    }
    let _ = writeln!(out, "- **Message:** {}", text(&c.message));
    if let Some(hint) = &c.hint {
        let _ = writeln!(out, "- **Fix:** {}", text(hint));
    }
    let _ = writeln!(out, "- **Severity:** {}", c.severity.as_str());
    if !c.evidence.is_empty() {
        // Serializing a map of JSON values cannot fail.
        let json = serde_json::to_string_pretty(&c.evidence).unwrap_or_default();
        // A fence longer than any backtick run inside, so the evidence cannot close it.
        let fence = "`".repeat(longest_backtick_run(&json).max(2) + 1);
        out.push('\n');
        out.push_str("<details><summary>Evidence</summary>\n\n");
        let _ = writeln!(out, "{fence}json\n{json}\n{fence}");
        out.push_str("\n</details>\n");
    }
}

fn row(out: &mut String, status: &str, c: &CheckResult, detail: &str) {
    let subject = c
        .subject
        .as_deref()
        .map(|s| code(s, true))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "| {status} | `{}` | {subject} | {} |",
        c.id,
        cell(detail)
    );
}

/// A result as a fix item names it: `` `config.redis-url-host` (`open-webui`) at `docker-compose.yml:12:29` ``.
fn name_at(c: &CheckResult) -> String {
    let mut s = code(c.id, false);
    if let Some(subject) = &c.subject {
        let _ = write!(s, " ({})", code(subject, false));
    }
    if let Some(loc) = &c.location {
        let _ = write!(s, " at {}", code(&loc.to_string(), false));
    }
    s
}

/// Results named by id and subject, each once.
fn names(results: &[&CheckResult]) -> String {
    let mut seen: Vec<String> = Vec::new();
    for c in results {
        let mut name = code(c.id, false);
        if let Some(subject) = &c.subject {
            let _ = write!(name, " ({})", code(subject, false));
        }
        if !seen.contains(&name) {
            seen.push(name);
        }
    }
    seen.join(", ")
}

/// A `caused_by` reference as code: `` `id` (`subject`) ``.
fn cause_name(cause: &str, table: bool) -> String {
    match parse_cause_ref(cause) {
        Some((id, Some(subject))) => format!("{} ({})", code(id, table), code(subject, table)),
        Some((id, None)) => code(id, table),
        None => code(cause, table),
    }
}

/// A table cell's detail with "(because …)" when the result names a cause its message does
/// not. Plain text: [`cell`] escapes it with the rest.
fn with_cause(c: &CheckResult, detail: &str) -> String {
    match cause_to_show(c) {
        Some(cause) => format!("{detail} (because {cause})"),
        None => detail.to_string(),
    }
}

/// One row for several skips with the same reason.
fn group_row(out: &mut String, group: &SkipGroup<'_>) {
    let check = match group.names() {
        SkipNames::Ids(ids) => ids
            .iter()
            .map(|id| code(id, true))
            .collect::<Vec<_>>()
            .join(", "),
        SkipNames::Family { family, count } => {
            format!("{} ({count} checks)", code(&format!("{family}.*"), true))
        }
    };
    let subjects = group.subjects();
    let subject = if subjects.len() <= crate::report::SKIP_NAMES_MAX {
        subjects
            .iter()
            .map(|s| code(s, true))
            .collect::<Vec<_>>()
            .join(", ")
    } else {
        format!("{} subjects", subjects.len())
    };
    let detail = with_cause(group.results[0], group.reason());
    let _ = writeln!(out, "| skip | {check} | {subject} | {} |", cell(&detail));
}

/// User text in running Markdown (a list item, a heading): see [`inline`].
pub fn text(s: &str) -> String {
    inline(s, false)
}

/// User text in a table cell: see [`inline`]; a `|` never ends the cell.
pub fn cell(s: &str) -> String {
    inline(s, true)
}

/// User text as inline Markdown: HTML-significant characters become entities, Markdown
/// punctuation is backslash-escaped, line breaks become `<br>` (so the text stays on its line
/// and cannot start a heading, list or HTML block), and tokens with an `@` become code spans.
fn inline(s: &str, table: bool) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for (i, line) in s.split('\n').enumerate() {
        if i > 0 {
            out.push_str("<br>");
        }
        let line = line.strip_suffix('\r').unwrap_or(line);
        for (j, word) in line.split(' ').enumerate() {
            if j > 0 {
                out.push(' ');
            }
            if word.contains('@') {
                out.push_str(&code(word, table));
            } else {
                escape_into(&mut out, word);
            }
        }
    }
    out
}

fn escape_into(out: &mut String, s: &str) {
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            // Inline punctuation that means something to CommonMark (emphasis, code, links,
            // images, heading closers), GFM (table cells, strikethrough) or GitHub (`$` math).
            // The text never starts a line, so line-start markers (`-`, `+`, `1.`, `=`) are safe.
            '\\' | '`' | '*' | '_' | '[' | ']' | '#' | '!' | '|' | '~' | '$' => {
                out.push('\\');
                out.push(ch);
            }
            '\t' => out.push(' '),
            c if c.is_control() => {
                let _ = write!(out, "\\\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
}

/// A code span that shows `s` literally whatever backticks it holds (CommonMark: the fence is
/// one backtick longer than the longest run inside; a space pads content that starts or ends
/// with a backtick). In a table cell `|` is written `\|`: GFM splits the row on unescaped pipes
/// before it parses code spans, then turns `\|` back into `|`.
fn code(s: &str, table: bool) -> String {
    let mut flat: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if flat.trim().is_empty() {
        return inline(s.trim(), table);
    }
    if table {
        flat = flat.replace('|', "\\|");
    }
    let fence = "`".repeat(longest_backtick_run(&flat) + 1);
    let pad = if flat.starts_with('`') || flat.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{flat}{pad}{fence}")
}

fn longest_backtick_run(s: &str) -> usize {
    let mut best = 0;
    let mut run = 0;
    for c in s.chars() {
        if c == '`' {
            run += 1;
            best = best.max(run);
        } else {
            run = 0;
        }
    }
    best
}
