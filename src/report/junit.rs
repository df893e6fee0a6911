//! `--format junit`: JUnit XML for CI test reports (GitLab, Jenkins, Azure, …).
//!
//! One `<testsuite>` per check family (`config`, `redis`, `ws`, `docker`, in that order, then
//! any other), one `<testcase>` per result, named `id [subject]`, classname `wsdoctor.<family>`,
//! with `file` and `line` attributes when the result has a place (as pytest writes them; GitLab
//! shows `file`).
//!
//! Names are unique within the report, as test reports key cases by classname and name (GitLab
//! shows one of two same-named cases): a check that fires twice on one subject (a service with
//! both `REDIS_URL` and `WEBSOCKET_REDIS_URL`) gets its place added, `id [subject] (file:line)`,
//! and a number, `#2`, when even that is the same.
//!
//! * `fail` → `<failure message=… type=severity>` with location, message and fix in the body.
//! * `warn` → a `<failure type="warning">` only under `--strict` (when it fails the run, as the
//!   exit code does). Otherwise a passing testcase whose `<system-out>` starts with `WARNING:`:
//!   JUnit has no warning state, GitLab and Jenkins show only failures, and a red test for a
//!   run that exits 0 would contradict the verdict.
//! * `skip` → `<skipped message=reason>`.
//! * a suppressed result → `<skipped message="suppressed: reason">`, never dropped.
//!
//! quick-junit escapes text and attributes and strips characters XML cannot hold.

use std::time::Duration;

use quick_junit::{NonSuccessKind, Report as JunitReport, TestCase, TestCaseStatus, TestSuite};

use crate::report::{CheckResult, Report, Status};

const FAMILY_ORDER: [&str; 7] = ["config", "kube", "aca", "redis", "ws", "docker", "proxy"];

pub fn render(report: &Report) -> String {
    let mut families: Vec<&str> = Vec::new();
    for c in &report.checks {
        let family = family(c.id);
        if !families.contains(&family) {
            families.push(family);
        }
    }
    // Known families in catalogue order, unknown ones after them in order of appearance.
    families.sort_by_key(|f| {
        FAMILY_ORDER
            .iter()
            .position(|k| k == f)
            .unwrap_or(usize::MAX)
    });

    let names = unique_names(&report.checks);
    let mut junit = JunitReport::new("wsdoctor");
    junit.set_time(Duration::from_millis(report.duration_ms));
    for fam in families {
        let mut suite = TestSuite::new(fam);
        let mut total_ms = 0u64;
        for (c, name) in report.checks.iter().zip(&names) {
            if family(c.id) != fam {
                continue;
            }
            total_ms = total_ms.saturating_add(c.duration_ms);
            suite.add_test_case(test_case(c, name.clone(), fam, report.summary.strict));
        }
        suite.set_time(Duration::from_millis(total_ms));
        junit.add_test_suite(suite);
    }
    match junit.to_string() {
        Ok(mut s) => {
            if !s.ends_with('\n') {
                s.push('\n');
            }
            s
        }
        // quick-junit writes to a String; an error here would be a bug in it. Still valid XML.
        Err(e) => format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"wsdoctor\" tests=\"0\" failures=\"0\" errors=\"1\"><!-- {} --></testsuites>\n",
            xml_comment_safe(&e.to_string())
        ),
    }
}

fn family(id: &str) -> &str {
    id.split('.').next().unwrap_or(id)
}

/// The testcase name of each result, in order: `id [subject]`, then the place and a number
/// for results that would share a name (see the module documentation).
fn unique_names(checks: &[CheckResult]) -> Vec<String> {
    let base: Vec<String> = checks
        .iter()
        .map(|c| match &c.subject {
            Some(subject) => format!("{} [{}]", c.id, clean(subject)),
            None => c.id.to_string(),
        })
        .collect();
    let placed: Vec<String> = checks
        .iter()
        .zip(&base)
        .map(|(c, name)| {
            let shared = base.iter().filter(|b| *b == name).count() > 1;
            match (&c.location, shared) {
                (Some(loc), true) => format!("{name} ({})", clean(&short_place(loc))),
                _ => name.clone(),
            }
        })
        .collect();
    let mut out: Vec<String> = Vec::with_capacity(placed.len());
    for name in &placed {
        let mut candidate = name.clone();
        let mut n = 1;
        while out.contains(&candidate) {
            n += 1;
            candidate = format!("{name} #{n}");
        }
        out.push(candidate);
    }
    out
}

/// `file:line` (the column does not tell two findings apart for a reader).
fn short_place(loc: &crate::report::Location) -> String {
    match loc.line {
        Some(line) => format!("{}:{line}", loc.file),
        None => loc.file.clone(),
    }
}

fn test_case(c: &CheckResult, name: String, family: &str, strict: bool) -> TestCase {
    let status = if let Some(sup) = &c.suppressed {
        let mut st = TestCaseStatus::skipped();
        let reason = sup.reason.as_deref().unwrap_or("no reason given");
        st.set_message(clean(&format!("suppressed: {reason}")));
        st.set_description(clean(&details(c)));
        st
    } else {
        match c.status {
            Status::Pass => TestCaseStatus::success(),
            Status::Skip => {
                let mut st = TestCaseStatus::skipped();
                st.set_message(clean(&c.message));
                st
            }
            Status::Fail => failure(c),
            Status::Warn if strict => failure(c),
            Status::Warn => TestCaseStatus::success(),
        }
    };
    let mut tc = TestCase::new(name, status);
    tc.set_classname(format!("wsdoctor.{family}"));
    if let Some(loc) = &c.location {
        tc.extra.insert("file".into(), clean(&loc.file).into());
        if let Some(line) = loc.line {
            tc.extra.insert("line".into(), line.to_string().into());
        }
    }
    tc.set_time(Duration::from_millis(c.duration_ms));
    if c.counts() && c.status == Status::Warn && !strict {
        tc.set_system_out(clean(&format!("WARNING: {}", details(c))));
    }
    tc
}

fn failure(c: &CheckResult) -> TestCaseStatus {
    let mut st = TestCaseStatus::non_success(NonSuccessKind::Failure);
    let mut message = String::new();
    if let Some(loc) = &c.location {
        message.push_str(&format!("{loc}: "));
    }
    message.push_str(c.message.lines().next().unwrap_or(""));
    st.set_message(clean(&message));
    st.set_type(c.severity.as_str());
    st.set_description(clean(&details(c)));
    st
}

/// The body of a failure or a note: where, what, how to fix, and the evidence.
fn details(c: &CheckResult) -> String {
    let mut s = format!("{} ({})", c.id, c.title);
    if let Some(loc) = &c.location {
        s.push_str(&format!("\nat {loc}"));
    }
    if let Some(subject) = &c.subject {
        s.push_str(&format!("\nsubject: {subject}"));
    }
    if let Some(cause) = &c.caused_by {
        s.push_str(&format!("\ncaused by: {cause}"));
    }
    s.push('\n');
    s.push_str(&c.message);
    if let Some(hint) = &c.hint {
        s.push_str("\nfix: ");
        s.push_str(hint);
    }
    if !c.evidence.is_empty() {
        let json = serde_json::to_string(&c.evidence).unwrap_or_default();
        s.push_str("\nevidence: ");
        s.push_str(&json);
    }
    s
}

/// Removes what XML 1.0 cannot carry even escaped. quick-junit strips C0 controls; the
/// noncharacters U+FFFE/U+FFFF are not in XML's `Char` production either.
fn clean(s: &str) -> String {
    s.chars()
        .filter(|c| !matches!(c, '\u{FFFE}' | '\u{FFFF}'))
        .collect()
}

fn xml_comment_safe(s: &str) -> String {
    clean(s).replace("--", "- -")
}
