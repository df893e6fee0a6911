//! One Report, many formats. Checks produce [`CheckResult`]s; [`Report::finish`] applies
//! suppressions and computes the summary; a renderer (one file per format) only formats.
//! No renderer decides a status.

pub mod concise;
pub mod github;
pub mod gitlab;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod paths;
pub mod sarif;
pub mod text;

use std::time::Duration;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::catalogue::{Rule, Severity};
use crate::redact::Secrets;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Skip,
    Warn,
    Fail,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Skip => "skip",
            Status::Warn => "warn",
            Status::Fail => "fail",
        }
    }
}

/// Where a finding is, in the user's files. Lines and columns are 1-based.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Location {
    pub file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<u32>,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(col) = self.column {
                write!(f, ":{col}")?;
            }
        }
        Ok(())
    }
}

/// Why a result does not count: an inline `# wsdoctor: ignore=ID -- reason`, `--ignore ID`, or
/// an `[[ignore]]` entry of the config file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Suppression {
    /// `inline` (a comment in the user's file), `cli` (`--ignore`) or `config` (an
    /// `[[ignore]]` of the config file, with its location).
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Where the inline comment is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
}

/// The outcome of one check on one subject (a service, a URL, a server).
///
/// `caused_by` names the finding that explains this one, as [`cause_ref`] writes it: `"<id>"`,
/// or `"<id> [<subject>]"` when the cause's check runs once per subject. Correlation of the
/// whole run sets it (src/correlate.rs; a check cannot know it alone). A warning or failure
/// whose cause is itself a warning or failure of the report gets no item of its own in
/// [`Report::fix_list`].
#[derive(Debug, Clone, Serialize)]
pub struct CheckResult {
    pub id: &'static str,
    pub status: Status,
    pub severity: Severity,
    pub title: &'static str,
    pub message: String,
    /// What the result is about when a check runs once per thing (service name, URL, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    pub evidence: Map<String, Value>,
    pub duration_ms: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suppressed: Option<Suppression>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub caused_by: Option<String>,
}

impl CheckResult {
    pub fn new(rule: &'static Rule, status: Status, message: String) -> Self {
        CheckResult {
            id: rule.id,
            status,
            severity: rule.severity,
            title: rule.title,
            message,
            subject: None,
            location: None,
            hint: None,
            evidence: Map::new(),
            duration_ms: 0,
            suppressed: None,
            caused_by: None,
        }
    }

    pub fn at(mut self, location: Option<Location>) -> Self {
        self.location = location;
        self
    }

    pub fn subject(mut self, subject: impl Into<String>) -> Self {
        self.subject = Some(subject.into());
        self
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Names the finding that explains this one (see [`CheckResult::caused_by`]).
    pub fn caused_by(mut self, id: &str, subject: Option<&str>) -> Self {
        self.caused_by = Some(cause_ref(id, subject));
        self
    }

    /// [`CheckResult::caused_by`] read back as `(id, subject)`.
    pub fn cause(&self) -> Option<(&str, Option<&str>)> {
        parse_cause_ref(self.caused_by.as_deref()?)
    }

    /// Whether this is the result `id` names (on `subject`, when one is given).
    pub fn is(&self, id: &str, subject: Option<&str>) -> bool {
        self.id == id && subject.is_none_or(|s| self.subject.as_deref() == Some(s))
    }

    /// The layer of the deployment this check looks at.
    pub fn layer(&self) -> Layer {
        Layer::of(self.id)
    }

    pub fn evidence(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.evidence.insert(key.to_string(), value.into());
        self
    }

    pub fn took(mut self, elapsed: Duration) -> Self {
        self.duration_ms = elapsed.as_millis().min(u128::from(u64::MAX)) as u64;
        self
    }

    /// Counts toward the verdict: not suppressed.
    pub fn counts(&self) -> bool {
        self.suppressed.is_none()
    }
}

/// A reference to a result, as [`CheckResult::caused_by`] holds it: `config.redis-url-host`, or
/// `config.redis-url-host [open-webui]` (the way the text report names a result).
pub fn cause_ref(id: &str, subject: Option<&str>) -> String {
    match subject {
        Some(s) => format!("{id} [{s}]"),
        None => id.to_string(),
    }
}

/// The inverse of [`cause_ref`]. The subject is everything between the first ` [` and the
/// final `]`, so a subject with brackets of its own (`redis://[::1]:6379`) survives.
pub fn parse_cause_ref(s: &str) -> Option<(&str, Option<&str>)> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    match s.split_once(' ') {
        None => Some((s, None)),
        Some((id, rest)) => {
            let subject = rest
                .trim()
                .strip_prefix('[')
                .and_then(|r| r.strip_suffix(']'));
            Some((id, subject))
        }
    }
}

/// The layer of a deployment a check family looks at. The fix list goes through them in this
/// order, because a fault in an earlier layer explains symptoms in the later ones:
///
/// 1. `Files` (`config.*`, `kube.*`, `aca.*`): everything else is built from the compose and .env files;
/// 2. `Docker` (`docker.*`): the containers that run what the files describe (not running,
///    not recreated since the files changed, on no shared network): Redis and the app run
///    in them, so this comes before either is probed;
/// 3. `Redis` (`redis.*`): the message queue the app's Socket.IO manager needs;
/// 4. `App` (`ws.*`): the Socket.IO server, probed over Engine.IO;
/// 5. `Proxy` (`proxy.*`): what sits in front of the app;
/// 6. `Other`: a family this version does not know, last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Layer {
    Files,
    Docker,
    Redis,
    App,
    Proxy,
    Other,
}

impl Layer {
    /// The layer of a check id, by its family (the part before the first `.`).
    pub fn of(id: &str) -> Layer {
        match id.split('.').next().unwrap_or(id) {
            "config" | "kube" | "aca" => Layer::Files,
            "docker" => Layer::Docker,
            "redis" => Layer::Redis,
            "ws" => Layer::App,
            "proxy" => Layer::Proxy,
            _ => Layer::Other,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Layer::Files => "files",
            Layer::Docker => "docker",
            Layer::Redis => "redis",
            Layer::App => "app",
            Layer::Proxy => "proxy",
            Layer::Other => "other",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ToolInfo {
    pub name: &'static str,
    pub version: &'static str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    Warn,
    Fail,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Warn => "warn",
            Verdict::Fail => "fail",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub pass: usize,
    pub warn: usize,
    pub fail: usize,
    pub skip: usize,
    /// Results that fired but were suppressed; not counted in pass/warn/fail/skip.
    pub suppressed: usize,
    pub verdict: Verdict,
    /// `--strict` was given: warnings make the verdict `fail`.
    pub strict: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub tool: ToolInfo,
    pub command: String,
    pub duration_ms: u64,
    pub summary: Summary,
    pub checks: Vec<CheckResult>,
    /// Secret values seen while gathering facts; used to redact, never rendered.
    #[serde(skip)]
    pub secrets: Secrets,
}

/// The rules for suppressing results of one run.
#[derive(Debug, Clone, Default)]
pub struct Suppressions {
    /// `--ignore ID` from the command line.
    pub cli: Vec<String>,
    /// Inline `# wsdoctor: ignore=ID[,ID] -- reason` comments found in the user's files.
    pub inline: Vec<InlineIgnore>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InlineIgnore {
    pub file: String,
    pub line: u32,
    pub ids: Vec<String>,
    pub reason: Option<String>,
}

/// An `[[ignore]]` entry of the config file (src/settings.rs): a reason is required; `service`
/// and `file` narrow it to one subject or the findings of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfiguredIgnore {
    pub id: &'static str,
    pub reason: String,
    pub service: Option<String>,
    pub file: Option<String>,
    /// Where the entry is in the config file.
    pub location: Location,
}

impl ConfiguredIgnore {
    /// Whether the entry covers `result` (whatever its status).
    fn covers(&self, result: &CheckResult) -> bool {
        result.id == self.id
            && self
                .service
                .as_ref()
                .is_none_or(|s| result.subject.as_deref() == Some(s.as_str()))
            && self.file.as_ref().is_none_or(|f| {
                result.location.as_ref().is_some_and(|loc| {
                    loc.file == *f || std::path::Path::new(&loc.file).ends_with(f)
                })
            })
    }
}

/// Whether a result fired (a suppression only ever applies to those).
fn fired(c: &CheckResult) -> bool {
    matches!(c.status, Status::Warn | Status::Fail)
}

impl InlineIgnore {
    /// Whether the comment covers `result`: its own line and the line right below it.
    fn covers_line(&self, result: &CheckResult) -> bool {
        result.location.as_ref().is_some_and(|loc| {
            loc.file == self.file
                && loc
                    .line
                    .is_some_and(|l| self.line == l || self.line.checked_add(1) == Some(l))
        })
    }
}

impl Suppressions {
    /// What the suppressions themselves say, judged against the results they were applied
    /// to: an inline comment naming no check (`config.ignore-unknown-id`), and a suppression
    /// of a check that ran but matched no finding (`config.unused-suppression`).
    fn judge(&self, checks: &[CheckResult]) -> Vec<CheckResult> {
        use crate::checks::config::{ignore_unknown_id, unused_suppression};
        let ran = |id: &str| checks.iter().any(|c| c.id == id);
        let mut out = Vec::new();
        for ig in &self.inline {
            let at = Location {
                file: ig.file.clone(),
                line: Some(ig.line),
                column: None,
            };
            for id in &ig.ids {
                if id != "all" && crate::catalogue::find(id).is_none() {
                    out.push(ignore_unknown_id::unknown(id, at.clone()));
                    continue;
                }
                let matched = checks
                    .iter()
                    .any(|c| fired(c) && (id == "all" || c.id == id) && ig.covers_line(c));
                if !matched && (id == "all" || ran(id)) {
                    out.push(unused_suppression::unused(
                        id,
                        "inline comment",
                        Some(at.clone()),
                    ));
                }
            }
        }
        for id in &self.cli {
            if ran(id) && !checks.iter().any(|c| fired(c) && c.id == id) {
                out.push(unused_suppression::unused(id, "--ignore", None));
            }
        }
        out
    }

    /// The suppression that applies to `result`, if any. An inline comment covers findings on
    /// its own line and on the line right below it (a comment line above a key).
    fn find(&self, result: &CheckResult) -> Option<Suppression> {
        if let Some(loc) = &result.location
            && let Some(line) = loc.line
        {
            for ig in &self.inline {
                // checked_add: a comment on line u32::MAX must not overflow (no panic on any input).
                if ig.file == loc.file
                    && (ig.line == line || ig.line.checked_add(1) == Some(line))
                    && ig.ids.iter().any(|id| id == result.id || id == "all")
                {
                    return Some(Suppression {
                        kind: "inline",
                        reason: ig.reason.clone(),
                        location: Some(Location {
                            file: ig.file.clone(),
                            line: Some(ig.line),
                            column: None,
                        }),
                    });
                }
            }
        }
        if self.cli.iter().any(|id| id == result.id) {
            return Some(Suppression {
                kind: "cli",
                reason: Some("--ignore on the command line".to_string()),
                location: None,
            });
        }
        None
    }
}

impl Report {
    /// Applies suppressions (only to results that fired: a passing check stays a proof) and
    /// computes the summary and verdict.
    pub fn finish(
        command: &str,
        mut checks: Vec<CheckResult>,
        suppressions: &Suppressions,
        strict: bool,
        elapsed: Duration,
        secrets: Secrets,
    ) -> Report {
        for c in &mut checks {
            if matches!(c.status, Status::Warn | Status::Fail) {
                c.suppressed = suppressions.find(c);
            }
        }
        // Only --ignore can silence these (an inline comment about a comment would be odd).
        let cli_only = Suppressions {
            cli: suppressions.cli.clone(),
            inline: Vec::new(),
        };
        for mut judged in suppressions.judge(&checks) {
            judged.suppressed = cli_only.find(&judged);
            checks.push(judged);
        }
        let summary = Summary::of(&checks, strict);
        Report {
            tool: ToolInfo {
                name: "wsdoctor",
                version: env!("CARGO_PKG_VERSION"),
            },
            command: command.to_string(),
            duration_ms: elapsed.as_millis().min(u128::from(u64::MAX)) as u64,
            summary,
            checks,
            secrets,
        }
    }

    /// Applies the config file's per-check severities and `[[ignore]]` entries to a finished
    /// report (the command line's suppressions were applied by [`Report::finish`]), reports
    /// the entries that matched no finding of a check that ran, and recomputes the summary.
    pub fn apply_settings(&mut self, ignores: &[ConfiguredIgnore], severity: &[(&str, Severity)]) {
        for c in &mut self.checks {
            if let Some((_, level)) = severity.iter().find(|(id, _)| *id == c.id) {
                c.severity = *level;
                c.status = match (c.status, level) {
                    (Status::Warn, Severity::Error) => Status::Fail,
                    (Status::Fail, Severity::Warning | Severity::Info) => Status::Warn,
                    (other, _) => other,
                };
            }
        }
        let mut unused = Vec::new();
        for ig in ignores {
            let ran = self.checks.iter().any(|c| c.id == ig.id);
            let matched = self.checks.iter().any(|c| fired(c) && ig.covers(c));
            if ran && !matched {
                unused.push(crate::checks::config::unused_suppression::unused(
                    ig.id,
                    "config [[ignore]]",
                    Some(ig.location.clone()),
                ));
            }
        }
        self.checks.extend(unused);
        // A run that read files proves these held, as every check that ran does.
        if self.checks.iter().any(|c| c.id.starts_with("config.")) {
            use crate::checks::config::{ignore_unknown_id, unused_suppression};
            for (id, proof) in [
                (
                    ignore_unknown_id::RULE.id,
                    ignore_unknown_id::all_known as fn() -> _,
                ),
                (unused_suppression::RULE.id, unused_suppression::all_used),
            ] {
                if !self.checks.iter().any(|c| c.id == id) {
                    self.checks.push(proof());
                }
            }
        }
        for c in &mut self.checks {
            if fired(c)
                && c.suppressed.is_none()
                && let Some(ig) = ignores.iter().find(|ig| ig.covers(c))
            {
                c.suppressed = Some(Suppression {
                    kind: "config",
                    reason: Some(ig.reason.clone()),
                    location: Some(ig.location.clone()),
                });
            }
        }
        self.summary = Summary::of(&self.checks, self.summary.strict);
    }
}

impl Summary {
    /// Counts and verdict of a list of results (suppressed ones apart).
    pub fn of(checks: &[CheckResult], strict: bool) -> Summary {
        let count = |s: Status| {
            checks
                .iter()
                .filter(|c| c.counts() && c.status == s)
                .count()
        };
        let (pass, warn, fail, skip) = (
            count(Status::Pass),
            count(Status::Warn),
            count(Status::Fail),
            count(Status::Skip),
        );
        let suppressed = checks.iter().filter(|c| !c.counts()).count();
        let verdict = if fail > 0 || (strict && warn > 0) {
            Verdict::Fail
        } else if warn > 0 {
            Verdict::Warn
        } else {
            Verdict::Pass
        };
        Summary {
            pass,
            warn,
            fail,
            skip,
            suppressed,
            verdict,
            strict,
        }
    }
}

impl Report {
    /// Exit code by the contract: 1 when the verdict is `fail`, else 0.
    pub fn exit_code(&self) -> u8 {
        if self.summary.verdict == Verdict::Fail {
            1
        } else {
            0
        }
    }

    /// Replaces every secret in every string of the report. Applied once, before any
    /// renderer runs, so no format can leak what another hides.
    pub fn redact(&mut self) {
        let secrets = &self.secrets;
        for c in &mut self.checks {
            c.message = secrets.redact(&c.message);
            if let Some(h) = &mut c.hint {
                *h = secrets.redact(h);
            }
            if let Some(s) = &mut c.subject {
                *s = secrets.redact(s);
            }
            // Names a subject (a URL) like `subject` does: redacted the same way, so the
            // reference still matches the result it names.
            if let Some(cause) = &mut c.caused_by {
                *cause = secrets.redact(cause);
            }
            // The evidence map is an object like any other: a secret-named key at its top
            // level (`"REDIS_PASSWORD": …`) is masked by name, as in nested objects.
            redact_map(&mut c.evidence, secrets);
            if let Some(sup) = &mut c.suppressed
                && let Some(r) = &mut sup.reason
            {
                *r = secrets.redact(r);
            }
        }
    }

    /// The shortest list of things to fix, in order: one item per root cause. Derived from
    /// statuses the checks decided and the links correlation made, so every renderer shows
    /// the same list.
    ///
    /// * A warning or failure whose [`CheckResult::caused_by`] leads (possibly through other
    ///   findings) to another warning or failure of this report gets no item: it is listed in
    ///   its root cause's [`FixItem::explains`]. A cause that passed, was skipped or was
    ///   suppressed explains nothing here, and a cycle of causes leaves each its own item.
    /// * Items answering for a failure come first (an item answers for what it explains too),
    ///   then items for warnings; within each, by [`Layer`] (files, docker, Redis, app,
    ///   proxy); within a layer, in the order the checks ran.
    /// * The same fix text reached by several checks (the files and a live probe agreeing) is
    ///   one item, under the first in that order; the others are its
    ///   [`FixItem::also_reported_by`].
    pub fn fix_list(&self) -> Vec<FixItem<'_>> {
        let findings: Vec<&CheckResult> = self
            .checks
            .iter()
            .filter(|c| c.counts() && matches!(c.status, Status::Warn | Status::Fail))
            .collect();
        // The finding each finding's cause names, by index into `findings`.
        let cause: Vec<Option<usize>> = findings
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let (id, subject) = c.cause()?;
                findings
                    .iter()
                    .position(|f| f.is(id, subject))
                    .filter(|&j| j != i)
            })
            .collect();
        // Follows causes to the end of the chain; a chain that loops leaves `i` its own root.
        let root = |i: usize| -> usize {
            let mut seen = vec![i];
            let mut at = i;
            while let Some(next) = cause[at] {
                if seen.contains(&next) {
                    return i;
                }
                seen.push(next);
                at = next;
            }
            at
        };
        let roots: Vec<usize> = (0..findings.len()).map(root).collect();

        let mut items: Vec<(usize, FixItem<'_>)> = Vec::new();
        for (i, c) in findings.iter().enumerate() {
            if roots[i] != i {
                continue;
            }
            let explains: Vec<&CheckResult> = (0..findings.len())
                .filter(|&j| j != i && roots[j] == i)
                .map(|j| findings[j])
                .collect();
            let status = explains
                .iter()
                .map(|e| e.status)
                .fold(c.status, Status::max);
            items.push((
                i,
                FixItem {
                    result: c,
                    fix: c.fix_text(),
                    status,
                    also_reported_by: Vec::new(),
                    explains,
                },
            ));
        }
        // sort_by_key is stable, but the run order is in the key anyway: it is the contract.
        items.sort_by_key(|(i, item)| (std::cmp::Reverse(item.status), item.result.layer(), *i));

        let mut out: Vec<FixItem<'_>> = Vec::with_capacity(items.len());
        for (_, item) in items {
            let key = fix_key(&item.fix);
            match out.iter_mut().find(|kept| fix_key(&kept.fix) == key) {
                // Sorted: the kept item is at least as severe and in an earlier layer.
                Some(kept) => {
                    kept.also_reported_by.push(item.result);
                    kept.also_reported_by.extend(item.also_reported_by);
                    kept.explains.extend(item.explains);
                }
                None => out.push(item),
            }
        }
        out
    }

    /// Results in the order a reader wants them: failures, warnings, skips, passes; stable
    /// within each group.
    pub fn by_importance(&self) -> Vec<&CheckResult> {
        let mut v: Vec<&CheckResult> = self.checks.iter().collect();
        // sort_by_key is stable: within a group, the order the checks ran in.
        v.sort_by_key(|c| match (c.counts(), c.status) {
            (true, Status::Fail) => 0,
            (true, Status::Warn) => 1,
            (false, _) => 2,
            (true, Status::Skip) => 3,
            (true, Status::Pass) => 4,
        });
        v
    }
}

/// One item of [`Report::fix_list`]: a root cause and what to do about it.
#[derive(Debug, Clone)]
pub struct FixItem<'a> {
    /// The finding whose fix this is (its id, subject and location name the item).
    pub result: &'a CheckResult,
    /// What to do: the finding's hint, else the first line of its message.
    pub fix: String,
    /// The worst status the item answers for: its own, or that of a finding it explains.
    pub status: Status,
    /// Other findings whose fix is the same text, fixed by the same change.
    pub also_reported_by: Vec<&'a CheckResult>,
    /// Findings whose `caused_by` leads here: consequences, fixed with their cause.
    pub explains: Vec<&'a CheckResult>,
}

impl CheckResult {
    /// What the fix list says to do about this finding: the hint, else the message's first
    /// line.
    pub fn fix_text(&self) -> String {
        self.hint
            .clone()
            .unwrap_or_else(|| self.message.lines().next().unwrap_or("").to_string())
    }
}

impl CheckResult {
    /// An identity of this finding that survives edits which only move it: 32 hex digits of
    /// a hash of the check id, the subject, the file and the message with line references
    /// taken out (`line 12`, `docker-compose.yml:12:29`). Code hosts (SARIF
    /// `partialFingerprints`, GitLab Code Quality `fingerprint`) use it to follow a finding
    /// from one run to the next. FNV-1a 128 is written out here so the value never changes
    /// with a Rust or crate version.
    pub fn stable_key(&self) -> String {
        let file = self.location.as_ref().map_or("", |l| l.file.as_str());
        let content = [
            self.id,
            self.subject.as_deref().unwrap_or(""),
            file,
            &without_line_refs(&self.message),
        ]
        .join("\u{1f}");
        format!("{:032x}", fnv1a_128(content.as_bytes()))
    }
}

/// [`CheckResult::stable_key`] of each finding (`warn`/`fail`) of `checks`, in order, made
/// unique: a second finding with the same key gets the key of `key#2`, and so on (GitLab
/// drops all but one finding of a fingerprint).
pub fn unique_keys<'a>(
    checks: impl IntoIterator<Item = &'a CheckResult>,
) -> Vec<(&'a CheckResult, String)> {
    let mut seen: Vec<String> = Vec::new();
    let mut out = Vec::new();
    for c in checks {
        let base = c.stable_key();
        let n = seen.iter().filter(|k| **k == base).count();
        seen.push(base.clone());
        let key = if n == 0 {
            base
        } else {
            format!("{:032x}", fnv1a_128(format!("{base}#{}", n + 1).as_bytes()))
        };
        out.push((c, key));
    }
    out
}

fn fnv1a_128(bytes: &[u8]) -> u128 {
    const OFFSET: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    const PRIME: u128 = 0x0000_0000_0100_0000_0000_0000_0000_013b;
    bytes
        .iter()
        .fold(OFFSET, |h, b| (h ^ u128::from(*b)).wrapping_mul(PRIME))
}

/// `message` without the line and column numbers it quotes: digits after `line `/`lines `
/// and the `:12:29` after a file name (one ending in a known extension, so `redis:6379`
/// keeps its port).
fn without_line_refs(message: &str) -> String {
    const FILE_ENDS: [&str; 9] = [
        ".yml",
        ".yaml",
        ".env",
        ".toml",
        ".txt",
        ".json",
        ".conf",
        ".cfg",
        "Caddyfile",
    ];
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(c) = rest.chars().next() {
        let lower = out.to_ascii_lowercase();
        let after_word = lower.ends_with("line ") || lower.ends_with("lines ");
        let after_file = c == ':' && FILE_ENDS.iter().any(|e| out.ends_with(e));
        if after_word && c.is_ascii_digit() {
            rest = rest.trim_start_matches(|ch: char| ch.is_ascii_digit() || ch == '-');
            out.push('#');
            continue;
        }
        if after_file && rest[1..].starts_with(|ch: char| ch.is_ascii_digit()) {
            // `:12` and `:12:29`
            let mut r = &rest[1..];
            r = r.trim_start_matches(|ch: char| ch.is_ascii_digit());
            if let Some(col) = r.strip_prefix(':')
                && col.starts_with(|ch: char| ch.is_ascii_digit())
            {
                r = col.trim_start_matches(|ch: char| ch.is_ascii_digit());
            }
            out.push_str(":#");
            rest = r;
            continue;
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// Two fix texts are the same fix when they differ only in spacing or a final full stop.
fn fix_key(fix: &str) -> String {
    fix.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .trim_end_matches('.')
        .to_string()
}

/// Skipped results that give the same reason, shown as one line by the text and Markdown
/// reports (machine formats keep every result): after a root failure, a dozen dependent
/// checks say "skipped because config.redis-url-host did not pass", and one line says it.
#[derive(Debug, Clone)]
pub struct SkipGroup<'a> {
    /// In the order they ran; never empty.
    pub results: Vec<&'a CheckResult>,
}

/// How a [`SkipGroup`] names its checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkipNames<'a> {
    /// Up to [`SKIP_NAMES_MAX`] distinct ids, by name.
    Ids(Vec<&'a str>),
    /// More (a group is of one family): `redis.* (14 checks)`.
    Family { family: &'a str, count: usize },
}

/// A collapsed skip line names its checks up to this many; beyond, it counts them.
pub const SKIP_NAMES_MAX: usize = 3;

impl<'a> SkipGroup<'a> {
    /// The shared reason (the message of every result in the group).
    pub fn reason(&self) -> &'a str {
        &self.results[0].message
    }

    /// The shared `caused_by`, if any.
    pub fn caused_by(&self) -> Option<&'a str> {
        self.results[0].caused_by.as_deref()
    }

    pub fn names(&self) -> SkipNames<'a> {
        let mut ids: Vec<&'a str> = Vec::new();
        for c in &self.results {
            if !ids.contains(&c.id) {
                ids.push(c.id);
            }
        }
        if ids.len() <= SKIP_NAMES_MAX {
            SkipNames::Ids(ids)
        } else {
            SkipNames::Family {
                family: family(self.results[0].id),
                count: self.results.len(),
            }
        }
    }

    /// The subjects of the group, in order, each once.
    pub fn subjects(&self) -> Vec<&'a str> {
        let mut out: Vec<&'a str> = Vec::new();
        for c in &self.results {
            if let Some(s) = c.subject.as_deref()
                && !out.contains(&s)
            {
                out.push(s);
            }
        }
        out
    }
}

impl std::fmt::Display for SkipNames<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SkipNames::Ids(ids) => write!(f, "{}", ids.join(", ")),
            SkipNames::Family { family, count } => write!(f, "{family}.* ({count} checks)"),
        }
    }
}

/// `skips` grouped by family and reason (message and `caused_by`), each group where its first
/// result was: `config.*` and `redis.*` checks skipped for the same reason are two lines, each
/// named by its family. Results that are not counting skips are each a group of their own.
pub fn skip_groups<'a>(skips: impl IntoIterator<Item = &'a CheckResult>) -> Vec<SkipGroup<'a>> {
    let mut groups: Vec<SkipGroup<'a>> = Vec::new();
    for c in skips {
        let same = |g: &SkipGroup<'a>| {
            let first = g.results[0];
            c.status == Status::Skip
                && c.counts()
                && first.status == Status::Skip
                && first.counts()
                && family(first.id) == family(c.id)
                && first.message == c.message
                && first.caused_by == c.caused_by
        };
        match groups.iter_mut().find(|g| same(g)) {
            Some(g) => g.results.push(c),
            None => groups.push(SkipGroup { results: vec![c] }),
        }
    }
    groups
}

/// The family of a check id: the part before the first `.`.
fn family(id: &str) -> &str {
    id.split('.').next().unwrap_or(id)
}

/// Whether a line about `c` should add `because <cause>`: it has a cause its message does not
/// already name (a skip's "skipped because redis.connect did not pass" names its own).
pub fn cause_to_show(c: &CheckResult) -> Option<&str> {
    let cause = c.caused_by.as_deref()?;
    let (id, _) = parse_cause_ref(cause)?;
    if c.message.contains(id) {
        None
    } else {
        Some(cause)
    }
}

fn redact_value(v: &mut Value, secrets: &Secrets) {
    match v {
        Value::String(s) => *s = secrets.redact(s),
        Value::Array(items) => items.iter_mut().for_each(|i| redact_value(i, secrets)),
        Value::Object(map) => redact_map(map, secrets),
        _ => {}
    }
}

fn redact_map(map: &mut Map<String, Value>, secrets: &Secrets) {
    for (k, val) in map.iter_mut() {
        if crate::redact::is_secret_key(k) {
            mask_all(val);
        } else {
            redact_value(val, secrets);
        }
    }
}

/// Masks every value under a secret-named key: a password written as a number
/// (`REDIS_PASSWORD: 123456` in YAML arrives as one) or nested in a list is still a secret.
/// Booleans, nulls and empty strings say nothing about the secret and stay.
fn mask_all(v: &mut Value) {
    match v {
        Value::String(s) if !s.is_empty() => *s = crate::redact::MASK.to_string(),
        Value::Number(_) => *v = Value::String(crate::redact::MASK.to_string()),
        Value::Array(items) => items.iter_mut().for_each(mask_all),
        Value::Object(map) => map.values_mut().for_each(mask_all),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn rule(id: &'static str, severity: Severity) -> Rule {
        Rule {
            id,
            severity,
            title: "t",
            summary: "s",
            why: "w",
            fix: "f",
        }
    }

    static URL_HOST: Rule = rule("config.redis-url-host", Severity::Error);
    static CONFIG_TIMEOUT: Rule = rule("config.redis-timeout", Severity::Warning);
    static CORS: Rule = rule("config.cors-origin", Severity::Warning);
    static REDIS_CONNECT: Rule = rule("redis.connect", Severity::Error);
    static REDIS_AUTH: Rule = rule("redis.auth", Severity::Error);
    static REDIS_PING: Rule = rule("redis.ping", Severity::Error);
    static REDIS_TIMEOUT: Rule = rule("redis.timeout", Severity::Warning);
    static REDIS_LATENCY: Rule = rule("redis.latency", Severity::Warning);
    static REDIS_MEMORY: Rule = rule("redis.memory", Severity::Warning);
    static WS_CONNECT: Rule = rule("ws.socketio-connect", Severity::Error);
    static WS_STICKY: Rule = rule("ws.sticky-session", Severity::Warning);
    static WS_UPGRADE: Rule = rule("ws.upgrade", Severity::Warning);
    static PROXY_BUFFERING: Rule = rule("proxy.buffering", Severity::Warning);
    static DOCKER_DRIFT: Rule = rule("docker.env-drift", Severity::Warning);

    fn at(file: &str, line: u32, column: u32) -> Option<Location> {
        Some(Location {
            file: file.to_string(),
            line: Some(line),
            column: Some(column),
        })
    }

    fn report(checks: Vec<CheckResult>) -> Report {
        Report::finish(
            "diagnose",
            checks,
            &Suppressions::default(),
            false,
            Duration::ZERO,
            Secrets::new(),
        )
    }

    /// `(id, subject, fix)` of each item.
    fn items(r: &Report) -> Vec<(&str, Option<&str>, String)> {
        r.fix_list()
            .into_iter()
            .map(|i| (i.result.id, i.result.subject.as_deref(), i.fix))
            .collect()
    }

    #[test]
    fn identical_fix_texts_are_one_item_under_the_earlier_layer() {
        let r = report(vec![
            REDIS_TIMEOUT
                .warn("timeout is 0")
                .hint("set `timeout 1800` on the Redis server"),
            CONFIG_TIMEOUT
                .warn("beagle-redis runs with timeout 0")
                .at(at("docker-compose.yml", 15, 14))
                .subject("beagle-redis")
                // Spacing and a final full stop do not make another fix.
                .hint("set  `timeout 1800` on the Redis server."),
        ]);
        let list = r.fix_list();
        assert_eq!(list.len(), 1, "{list:#?}");
        assert_eq!(list[0].result.id, "config.redis-timeout");
        let others: Vec<&str> = list[0].also_reported_by.iter().map(|c| c.id).collect();
        assert_eq!(others, ["redis.timeout"]);
    }

    #[test]
    fn different_fix_texts_stay_apart() {
        let r = report(vec![
            REDIS_LATENCY.warn("slow").hint("move Redis closer"),
            REDIS_MEMORY.warn("full").hint("raise maxmemory"),
        ]);
        assert_eq!(r.fix_list().len(), 2);
    }

    #[test]
    fn a_finding_caused_by_another_finding_has_no_item() {
        let r = report(vec![
            URL_HOST
                .fail("host 'redis' is not a service")
                .subject("open-webui")
                .at(at("docker-compose.yml", 12, 29))
                .hint("use redis://beagle-redis:6379/0"),
            WS_CONNECT
                .fail("CONNECT never answered")
                .subject("http://localhost:3000")
                .caused_by("config.redis-url-host", Some("open-webui")),
            // A chain: upgrade ← socketio-connect ← redis-url-host.
            WS_UPGRADE
                .warn("the upgrade exchange failed")
                .subject("http://localhost:3000")
                .caused_by("ws.socketio-connect", Some("http://localhost:3000")),
            WS_STICKY
                .warn("1 round")
                .subject("http://localhost:3000")
                .caused_by("config.redis-url-host", None),
        ]);
        let list = r.fix_list();
        assert_eq!(list.len(), 1, "{list:#?}");
        assert_eq!(list[0].result.id, "config.redis-url-host");
        let explained: Vec<&str> = list[0].explains.iter().map(|c| c.id).collect();
        assert_eq!(
            explained,
            ["ws.socketio-connect", "ws.upgrade", "ws.sticky-session"]
        );
    }

    #[test]
    fn a_cause_that_is_not_a_finding_explains_nothing() {
        let mut r = report(vec![
            URL_HOST.pass("host is a service").subject("open-webui"),
            WS_CONNECT
                .fail("CONNECT never answered")
                .caused_by("config.redis-url-host", Some("open-webui")),
            // Names a subject no result has.
            WS_STICKY
                .warn("1 round")
                .hint("enable sticky sessions")
                .caused_by("ws.socketio-connect", Some("http://elsewhere")),
            // A suppressed cause: accepted by the user, so it explains nothing either.
            CORS.warn("origin *").at(at(".env", 5, 1)),
            WS_UPGRADE
                .warn("upgrade failed")
                .caused_by("config.cors-origin", None),
        ]);
        // Suppress the CORS finding as `--ignore` would.
        r = Report::finish(
            "diagnose",
            r.checks,
            &Suppressions {
                cli: vec!["config.cors-origin".to_string()],
                inline: vec![],
            },
            false,
            Duration::ZERO,
            Secrets::new(),
        );
        let ids: Vec<&str> = r.fix_list().iter().map(|i| i.result.id).collect();
        assert_eq!(
            ids,
            ["ws.socketio-connect", "ws.sticky-session", "ws.upgrade"]
        );
    }

    #[test]
    fn a_cycle_of_causes_leaves_each_its_own_item() {
        let r = report(vec![
            REDIS_AUTH.fail("WRONGPASS").caused_by("redis.ping", None),
            REDIS_PING.fail("no answer").caused_by("redis.auth", None),
        ]);
        assert_eq!(r.fix_list().len(), 2);
    }

    #[test]
    fn failures_come_first_then_layers_then_run_order() {
        let r = report(vec![
            WS_STICKY.warn("sticky").hint("sticky"),
            PROXY_BUFFERING.warn("buffering").hint("buffering"),
            CONFIG_TIMEOUT.warn("timeout 0").hint("timeout"),
            WS_CONNECT.fail("no CONNECT").hint("connect"),
            DOCKER_DRIFT.warn("drift").hint("drift"),
            REDIS_CONNECT.fail("refused").hint("refused"),
            REDIS_LATENCY.warn("slow").hint("latency"),
            URL_HOST.fail("host").hint("host"),
            CORS.warn("cors").hint("cors"),
        ]);
        let ids: Vec<&str> = r.fix_list().iter().map(|i| i.result.id).collect();
        assert_eq!(
            ids,
            [
                // failures: files, Redis, app
                "config.redis-url-host",
                "redis.connect",
                "ws.socketio-connect",
                // warnings: files (in run order), docker, Redis, app, proxy
                "config.redis-timeout",
                "config.cors-origin",
                "docker.env-drift",
                "redis.latency",
                "ws.sticky-session",
                "proxy.buffering",
            ]
        );
    }

    #[test]
    fn a_warning_that_explains_a_failure_ranks_with_failures() {
        let r = report(vec![
            REDIS_CONNECT.fail("refused").hint("start Redis"),
            CONFIG_TIMEOUT.warn("timeout 0").hint("timeout"),
            CORS.warn("origin not allowed")
                .hint("set CORS_ALLOW_ORIGIN"),
            WS_CONNECT
                .fail("CONNECT refused")
                .caused_by("config.cors-origin", None),
        ]);
        let list = r.fix_list();
        let ids: Vec<&str> = list.iter().map(|i| i.result.id).collect();
        assert_eq!(
            ids,
            [
                "config.cors-origin",
                "redis.connect",
                "config.redis-timeout"
            ]
        );
        assert_eq!(list[0].status, Status::Fail);
    }

    #[test]
    fn fix_items_carry_the_location() {
        let r = report(vec![
            URL_HOST
                .fail("host 'redis' is not a service")
                .subject("open-webui")
                .at(at("docker-compose.yml", 12, 29))
                .hint("use redis://beagle-redis:6379/0"),
            REDIS_CONNECT.fail("connection refused\nmore detail"),
        ]);
        let list = r.fix_list();
        assert_eq!(
            list[0].result.location.as_ref().map(ToString::to_string),
            Some("docker-compose.yml:12:29".to_string())
        );
        // Without a hint, the first line of the message.
        assert_eq!(
            items(&r)[1],
            ("redis.connect", None, "connection refused".into())
        );
        let text = text::render(&r, false);
        assert!(
            text.contains(
                "  1. config.redis-url-host [open-webui] docker-compose.yml:12:29: use redis://beagle-redis:6379/0\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("  2. redis.connect: connection refused\n"),
            "{text}"
        );
        let md = markdown::render(&r);
        assert!(
            md.contains(
                "1. `config.redis-url-host` (`open-webui`) at `docker-compose.yml:12:29`: use redis://beagle-redis:6379/0\n"
            ),
            "{md}"
        );
    }

    #[test]
    fn renderers_name_what_an_item_also_explains() {
        let r = report(vec![
            URL_HOST
                .fail("host")
                .subject("open-webui")
                .hint("use beagle-redis"),
            WS_STICKY
                .warn("1 round")
                .subject("http://localhost:3000")
                .caused_by("config.redis-url-host", Some("open-webui")),
        ]);
        let text = text::render(&r, false);
        assert!(
            text.contains(
                "  1. config.redis-url-host [open-webui]: use beagle-redis\n     also explains: ws.sticky-session [http://localhost:3000]\n"
            ),
            "{text}"
        );
        assert!(!text.contains("  2. "), "{text}");
        // The consequence is still listed among the warnings, with its cause.
        assert!(
            text.contains("     because config.redis-url-host [open-webui]\n"),
            "{text}"
        );
        let md = markdown::render(&r);
        assert!(
            md.contains("   - also explains: `ws.sticky-session` (`http://localhost:3000`)\n"),
            "{md}"
        );
        assert!(
            md.contains("- **Because:** `config.redis-url-host` (`open-webui`)\n"),
            "{md}"
        );
    }

    #[test]
    fn stable_keys_ignore_line_moves_only() {
        let finding = |message: &str, line: u32| {
            URL_HOST.fail(message).subject("open-webui").at(at(
                "deploy/docker-compose.yml",
                line,
                9,
            ))
        };
        let a = finding("host 'redis' (also on line 7, see .env:3:1)", 7);
        let b = finding("host 'redis' (also on line 19, see .env:12:1)", 19);
        assert_eq!(a.stable_key(), b.stable_key());
        assert_eq!(a.stable_key().len(), 32);
        // Another port, subject, file or check is another finding.
        assert_ne!(
            finding("redis:6379", 1).stable_key(),
            finding("redis:6380", 1).stable_key()
        );
        assert_ne!(a.stable_key(), a.clone().subject("chainlit").stable_key());
        assert_ne!(
            a.stable_key(),
            a.clone().at(at("docker-compose.yml", 7, 9)).stable_key()
        );
        assert_eq!(
            without_line_refs("lines 3-5 and line 9"),
            "lines # and line #"
        );
        // Known value: the hash must not change between versions.
        assert_eq!(
            format!("{:032x}", fnv1a_128(b"")),
            "6c62272e07bb014262b821756295c58d"
        );
        // Identical findings get distinct keys, the first keeps its own.
        let same = [a.clone(), b.clone()];
        let keys = unique_keys(same.iter());
        assert_eq!(keys[0].1, a.stable_key());
        assert_ne!(keys[0].1, keys[1].1);
    }

    #[test]
    fn cause_refs_round_trip() {
        for (id, subject) in [
            ("redis.connect", None),
            ("config.redis-url-host", Some("open-webui")),
            ("redis.auth", Some("redis://[::1]:6379/0")),
        ] {
            assert_eq!(
                parse_cause_ref(&cause_ref(id, subject)),
                Some((id, subject))
            );
        }
        assert_eq!(parse_cause_ref(""), None);
    }

    #[test]
    fn layers_in_order() {
        let order: Vec<Layer> = [
            "config.x", "docker.x", "redis.x", "ws.x", "proxy.x", "future.x",
        ]
        .iter()
        .map(|id| Layer::of(id))
        .collect();
        let mut sorted = order.clone();
        sorted.sort();
        assert_eq!(order, sorted);
        assert_eq!(
            order,
            [
                Layer::Files,
                Layer::Docker,
                Layer::Redis,
                Layer::App,
                Layer::Proxy,
                Layer::Other
            ]
        );
    }

    fn skipped_after_host(rules: &[&'static Rule]) -> Vec<CheckResult> {
        rules
            .iter()
            .map(|r| r.skip_because("config.redis-url-host"))
            .collect()
    }

    #[test]
    fn skips_with_one_reason_are_one_line() {
        let mut checks = vec![URL_HOST.fail("host").subject("open-webui")];
        checks.extend(skipped_after_host(&[
            &REDIS_CONNECT,
            &REDIS_AUTH,
            &REDIS_PING,
            &REDIS_TIMEOUT,
            &REDIS_LATENCY,
        ]));
        checks.push(WS_STICKY.skip("no --url given"));
        checks.push(REDIS_MEMORY.skip_because("config.redis-url-host"));
        let r = report(checks);
        let groups = skip_groups(r.checks.iter().filter(|c| c.status == Status::Skip));
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].results.len(), 6);
        assert_eq!(
            groups[0].names(),
            SkipNames::Family {
                family: "redis",
                count: 6
            }
        );
        let text = text::render(&r, false);
        let line = format!(
            "SKIP    {:<38} skipped because config.redis-url-host did not pass\n",
            "redis.* (6 checks)"
        );
        assert!(text.contains(&line), "{text}");
        assert_eq!(text.matches("did not pass").count(), 1, "{text}");
        assert!(text.contains("ws.sticky-session"), "{text}");
        let md = markdown::render(&r);
        assert!(
            md.contains(
                "| skip | `redis.*` (6 checks) |  | skipped because config.redis-url-host did not pass |\n"
            ),
            "{md}"
        );
        // Machine formats keep every result.
        assert_eq!(json::render(&r).matches("did not pass").count(), 6);
        assert_eq!(junit::render(&r).matches("did not pass").count(), 6);
    }

    #[test]
    fn few_skips_are_named_and_families_kept_apart() {
        let r = report(skipped_after_host(&[
            &REDIS_CONNECT,
            &REDIS_AUTH,
            &CORS,
            &WS_STICKY,
            &WS_UPGRADE,
        ]));
        let groups = skip_groups(r.checks.iter());
        let names: Vec<String> = groups.iter().map(|g| g.names().to_string()).collect();
        assert_eq!(
            names,
            [
                "redis.connect, redis.auth",
                "config.cors-origin",
                "ws.sticky-session, ws.upgrade"
            ]
        );
    }

    #[test]
    fn a_skip_with_another_cause_or_subject_set_is_grouped_by_reason_only() {
        let r = report(vec![
            REDIS_CONNECT.skip("no Redis URL").subject("a"),
            REDIS_AUTH.skip("no Redis URL").subject("b"),
            // Same message, another cause: its own line.
            REDIS_PING
                .skip("no Redis URL")
                .caused_by("config.redis-url-host", None),
        ]);
        let groups = skip_groups(r.checks.iter());
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].subjects(), ["a", "b"]);
        let text = text::render(&r, false);
        assert!(text.contains("[a, b] no Redis URL\n"), "{text}");
        assert!(
            text.contains("no Redis URL (because config.redis-url-host)\n"),
            "{text}"
        );
    }

    #[test]
    fn caused_by_is_serialised_only_when_set() {
        let r = report(vec![
            REDIS_CONNECT.fail("refused"),
            WS_CONNECT
                .fail("no CONNECT")
                .caused_by("redis.connect", Some("redis://r:6379")),
        ]);
        let v: Value = serde_json::from_str(&json::render(&r)).unwrap();
        assert!(v["checks"][0].get("caused_by").is_none());
        assert_eq!(
            v["checks"][1]["caused_by"],
            "redis.connect [redis://r:6379]"
        );
    }

    #[test]
    fn redaction_keeps_a_cause_pointing_at_its_result() {
        let mut secrets = Secrets::new();
        secrets.add("hunter2");
        let url = "redis://:hunter2@r:6379";
        let mut r = Report::finish(
            "diagnose",
            vec![
                REDIS_AUTH
                    .fail("WRONGPASS")
                    .subject(url)
                    .hint("fix the password"),
                WS_CONNECT
                    .fail("no CONNECT")
                    .caused_by("redis.auth", Some(url)),
            ],
            &Suppressions::default(),
            false,
            Duration::ZERO,
            secrets,
        );
        r.redact();
        assert!(!r.checks[1].caused_by.as_ref().unwrap().contains("hunter2"));
        let list = r.fix_list();
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].explains.len(), 1);
    }
}
