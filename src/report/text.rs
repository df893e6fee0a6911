//! `--format text`: for a terminal. Verdict first, then what to fix (one item per root cause:
//! [`Report::fix_list`], each with its file:line and what else it explains), then every
//! failure and warning in detail (a consequence says `because <id>`), then the proof of what
//! was verified, one line each: suppressed results, skips (those giving the same reason as
//! one line: `SKIP redis.* (13 checks) skipped because redis.connect did not pass`), passes.
//!
//! Strings from the user's files and servers are printed through [`printable`]: an ESC or `\r`
//! inside a value would otherwise recolour or overwrite the user's terminal.

use std::fmt::Write;

use anstyle::{AnsiColor, Style};

use crate::report::{CheckResult, Report, SkipGroup, Status, Verdict, cause_to_show, skip_groups};

fn style(color: bool, s: Style) -> Style {
    if color { s } else { Style::new() }
}

fn status_style(status: Status) -> Style {
    match status {
        Status::Fail => Style::new().bold().fg_color(Some(AnsiColor::Red.into())),
        Status::Warn => Style::new().bold().fg_color(Some(AnsiColor::Yellow.into())),
        Status::Pass => Style::new().fg_color(Some(AnsiColor::Green.into())),
        Status::Skip => Style::new().dimmed(),
    }
}

/// The headline: `wsdoctor lint: FAIL (1 failing, 2 warnings, 12 passed, 4 skipped)`.
pub fn headline(report: &Report) -> String {
    let s = &report.summary;
    let mut parts = vec![
        format!("{} failing", s.fail),
        format!("{} warning{}", s.warn, if s.warn == 1 { "" } else { "s" }),
        format!("{} passed", s.pass),
        format!("{} skipped", s.skip),
    ];
    if s.suppressed > 0 {
        parts.push(format!("{} suppressed", s.suppressed));
    }
    let verdict = match s.verdict {
        Verdict::Pass => "PASS",
        Verdict::Warn => "PASS with warnings",
        Verdict::Fail => "FAIL",
    };
    format!(
        "wsdoctor {}: {verdict} ({}){}",
        report.command,
        parts.join(", "),
        if s.strict && s.warn > 0 {
            " [--strict: warnings fail]"
        } else {
            ""
        }
    )
}

/// How to lay the text out: colours, the width to wrap to (`None`: no wrapping) and
/// `--quiet` (warnings and failures only).
#[derive(Debug, Clone, Copy, Default)]
pub struct TextOptions {
    pub color: bool,
    pub width: Option<usize>,
    pub quiet: bool,
}

/// Unwrapped, every result (the layout snapshot tests pin down).
pub fn render(report: &Report, color: bool) -> String {
    render_with(
        report,
        &TextOptions {
            color,
            width: None,
            quiet: false,
        },
    )
}

/// Narrowest room left for text after an indent: below it, a continuation line starts under
/// the id instead of under the message (a very narrow terminal still gets words, not letters).
const MIN_TEXT_COLUMNS: usize = 24;

/// Wraps `text` (one line) at spaces: the first line has `first` columns taken already, each
/// following line is prefixed with `indent` spaces. A word longer than the room (a URL) is
/// kept whole; without a width the text is returned as is.
fn wrap(text: &str, first: usize, indent: usize, width: Option<usize>) -> String {
    let Some(width) = width else {
        return text.to_string();
    };
    let indent = if width.saturating_sub(indent) < MIN_TEXT_COLUMNS {
        indent.min(8)
    } else {
        indent
    };
    let mut out = String::with_capacity(text.len() + 16);
    let mut column = first;
    let mut line_empty = true;
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let len = word.chars().count();
        // A head wider than the indent (a long id) leaves no room: start below it.
        let no_room_after_head = out.is_empty() && first > indent && first + len > width;
        if (!line_empty && column + 1 + len > width) || no_room_after_head {
            out.push('\n');
            out.push_str(&" ".repeat(indent));
            column = indent;
            line_empty = true;
        }
        if !line_empty {
            out.push(' ');
            column += 1;
        }
        out.push_str(word);
        column += len;
        line_empty = false;
    }
    out
}

pub fn render_with(report: &Report, options: &TextOptions) -> String {
    let color = options.color;
    let width = options.width;
    let mut out = String::new();
    let head = style(
        color,
        match report.summary.verdict {
            Verdict::Pass => status_style(Status::Pass).bold(),
            Verdict::Warn => status_style(Status::Warn),
            Verdict::Fail => status_style(Status::Fail),
        },
    );
    let _ = writeln!(
        out,
        "{head}{}{head:#}",
        wrap(&headline(report), 0, 2, width)
    );
    let fixes = report.fix_list();
    if !fixes.is_empty() {
        let bold = style(color, Style::new().bold());
        let _ = writeln!(out, "\n{bold}To fix, in order:{bold:#}");
        for (i, item) in fixes.iter().enumerate() {
            // Under the item's text, aligned with it: `  12. ` is six columns wide.
            let number = format!("  {}. ", i + 1);
            let item_text = format!(
                "{}: {}",
                name_at(item.result),
                one_line(&printable(&item.fix))
            );
            let _ = writeln!(
                out,
                "{number}{}",
                wrap(&item_text, number.len(), number.len(), width)
            );
            let indent = " ".repeat(number.len());
            if !item.explains.is_empty() {
                let also = format!("also explains: {}", names(&item.explains));
                let _ = writeln!(
                    out,
                    "{indent}{}",
                    wrap(&also, indent.len(), indent.len(), width)
                );
            }
            if !item.also_reported_by.is_empty() {
                let also = format!(
                    "also reported by: {}",
                    item.also_reported_by
                        .iter()
                        .map(|c| name_at(c))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                let _ = writeln!(
                    out,
                    "{indent}{}",
                    wrap(&also, indent.len(), indent.len(), width)
                );
            }
        }
    }
    let ordered = report.by_importance();
    let (detailed, brief): (Vec<&CheckResult>, Vec<&CheckResult>) = ordered
        .into_iter()
        .partition(|c| c.counts() && matches!(c.status, Status::Fail | Status::Warn));
    for c in &detailed {
        out.push('\n');
        write_detailed(&mut out, c, color, width);
    }
    if options.quiet {
        // The headline already counts what is not shown.
        return out;
    }
    if !brief.is_empty() {
        out.push('\n');
    }
    // Suppressed results first, one line each; then skips, those with the same reason as one
    // line; then passes (by_importance put them in that order).
    let (skips, rest): (Vec<&CheckResult>, Vec<&CheckResult>) = brief
        .into_iter()
        .partition(|c| c.counts() && c.status == Status::Skip);
    let (suppressed, passed): (Vec<&CheckResult>, Vec<&CheckResult>) =
        rest.into_iter().partition(|c| !c.counts());
    for c in suppressed {
        write_brief(&mut out, c, color, width);
    }
    for group in skip_groups(skips) {
        if let [one] = group.results.as_slice() {
            write_brief(&mut out, one, color, width);
        } else {
            write_skip_group(&mut out, &group, color, width);
        }
    }
    for c in passed {
        write_brief(&mut out, c, color, width);
    }
    out
}

fn label(c: &CheckResult) -> &'static str {
    if !c.counts() {
        return "IGNORED";
    }
    match c.status {
        Status::Fail => "FAIL",
        Status::Warn => "WARN",
        Status::Pass => "PASS",
        Status::Skip => "SKIP",
    }
}

fn write_detailed(out: &mut String, c: &CheckResult, color: bool, width: Option<usize>) {
    let st = style(color, status_style(c.status));
    let bold = style(color, Style::new().bold());
    let dim = style(color, Style::new().dimmed());
    let head = format!("{:<4} {}  ", label(c), c.id);
    let _ = writeln!(
        out,
        "{st}{:<4}{st:#} {bold}{}{bold:#}  {}",
        label(c),
        c.id,
        wrap(c.title, head.chars().count(), 5, width)
    );
    let mut place = String::new();
    if let Some(loc) = &c.location {
        place.push_str(&printable(&loc.to_string()));
    }
    if let Some(subject) = &c.subject {
        if !place.is_empty() {
            place.push(' ');
        }
        let _ = write!(place, "[{}]", one_line(subject));
    }
    if !place.is_empty() {
        let _ = writeln!(out, "     {dim}at{dim:#} {}", wrap(&place, 8, 8, width));
    }
    if let Some(cause) = cause_to_show(c) {
        let _ = writeln!(
            out,
            "     {dim}because{dim:#} {}",
            wrap(&one_line(cause), 13, 13, width)
        );
    }
    for line in printable(&c.message).lines() {
        let _ = writeln!(out, "     {}", wrap(line, 5, 5, width));
    }
    if let Some(hint) = &c.hint {
        let hint = printable(hint);
        let mut lines = hint.lines();
        if let Some(first) = lines.next() {
            let _ = writeln!(
                out,
                "     {bold}fix:{bold:#} {}",
                wrap(first, 10, 10, width)
            );
        }
        for line in lines {
            let _ = writeln!(out, "          {}", wrap(line, 10, 10, width));
        }
    }
}

/// Columns before the text of a one-line result: `IGNORED ` and the id padded to 38.
const BRIEF_TEXT_COLUMN: usize = 8 + 38 + 1;

fn write_brief(out: &mut String, c: &CheckResult, color: bool, width: Option<usize>) {
    let st = style(
        color,
        if c.counts() {
            status_style(c.status)
        } else {
            Style::new().dimmed()
        },
    );
    let message = printable(&c.message);
    let mut line = message.lines().next().unwrap_or("").to_string();
    if let Some(subject) = &c.subject {
        line = format!("[{}] {line}", one_line(subject));
    }
    if let Some(cause) = cause_to_show(c) {
        let _ = write!(line, " (because {})", one_line(cause));
    }
    if let Some(sup) = &c.suppressed {
        let reason = sup.reason.as_deref().unwrap_or("no reason given");
        line = format!("{line} (suppressed: {})", one_line(reason));
    }
    let first = BRIEF_TEXT_COLUMN.max(8 + c.id.chars().count() + 1);
    let _ = writeln!(
        out,
        "{st}{:<7}{st:#} {:<38} {}",
        label(c),
        c.id,
        wrap(&line, first, BRIEF_TEXT_COLUMN, width)
    );
}

/// Several skips with one reason: `SKIP    redis.* (14 checks)  skipped because …`.
fn write_skip_group(out: &mut String, group: &SkipGroup<'_>, color: bool, width: Option<usize>) {
    let st = style(color, status_style(Status::Skip));
    let mut line = String::new();
    let subjects = group.subjects();
    if subjects.len() > crate::report::SKIP_NAMES_MAX {
        let _ = write!(line, "[{} subjects] ", subjects.len());
    } else if !subjects.is_empty() {
        let subjects: Vec<String> = subjects.iter().map(|s| one_line(s)).collect();
        let _ = write!(line, "[{}] ", subjects.join(", "));
    }
    line.push_str(&one_line(group.reason()));
    if let Some(first) = group.results.first()
        && let Some(cause) = cause_to_show(first)
    {
        let _ = write!(line, " (because {})", one_line(cause));
    }
    let names = group.names().to_string();
    let first = BRIEF_TEXT_COLUMN.max(8 + names.chars().count() + 1);
    let _ = writeln!(
        out,
        "{st}{:<7}{st:#} {:<38} {}",
        "SKIP",
        names,
        wrap(&line, first, BRIEF_TEXT_COLUMN, width)
    );
}

/// A result as a fix item names it: `config.redis-url-host [open-webui] docker-compose.yml:12:29`.
fn name_at(c: &CheckResult) -> String {
    let mut s = c.id.to_string();
    if let Some(subject) = &c.subject {
        let _ = write!(s, " [{}]", one_line(subject));
    }
    if let Some(loc) = &c.location {
        let _ = write!(s, " {}", one_line(&loc.to_string()));
    }
    s
}

/// Results named by id and subject, each once: `redis.connect, ws.socketio-connect [http://…]`.
fn names(results: &[&CheckResult]) -> String {
    let mut seen: Vec<String> = Vec::new();
    for c in results {
        let name = match &c.subject {
            Some(subject) => format!("{} [{}]", c.id, one_line(subject)),
            None => c.id.to_string(),
        };
        if !seen.contains(&name) {
            seen.push(name);
        }
    }
    seen.join(", ")
}

/// [`printable`] on one line: for values inside a one-line layout (a subject, a reason).
fn one_line(s: &str) -> String {
    printable(s)
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// `s` with control characters other than newline and tab shown as `\u{..}`, so a value read
/// from a file or a server cannot emit terminal escapes.
pub fn printable(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c.is_control() && c != '\n' && c != '\t' {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}
