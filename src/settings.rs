//! The project config file: `wsdoctor.toml`, `.wsdoctor.toml`, or `[tool.wsdoctor]` in
//! `pyproject.toml`, found in the project directory or above it, up to the repository root
//! (the directory holding `.git`; outside a repository only the project directory is read, so
//! a stray file in /tmp or $HOME never changes a run).
//!
//! ```toml
//! timeout = "5s"          # or a number of seconds
//! strict = true
//! app = "open-webui"
//!
//! [diagnose]
//! url = "http://localhost:8080"
//! path = "/ws/socket.io"
//! origin = "https://chat.example.com"
//!
//! [severity]
//! "config.redis-timeout" = "error"     # error | warning
//!
//! [[ignore]]
//! id = "config.redis-timeout"
//! reason = "Redis is restarted nightly"    # required
//! service = "redis"                          # optional: only this subject
//! file = "docker-compose.yml"                # optional: only findings in this file
//! ```
//!
//! Command-line options win over the file. An invalid file stops the run (exit 2) with its
//! file:line; unknown check ids are refused with a did-you-mean, as on the command line.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use crate::catalogue::{self, Severity};
use crate::error::CliError;
use crate::report::{ConfiguredIgnore, Location};

/// File names read in each directory, in order of preference (the first found wins; the
/// pyproject.toml of the same directory only when it has a `[tool.wsdoctor]` table).
pub const FILE_NAMES: [&str; 2] = ["wsdoctor.toml", ".wsdoctor.toml"];

/// The settings of one run that came from a config file (empty when there is none).
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// The file read, as shown in messages.
    pub file: Option<String>,
    pub timeout: Option<Duration>,
    pub strict: bool,
    pub app: Option<String>,
    pub url: Option<String>,
    pub path: Option<String>,
    pub origin: Option<String>,
    pub ignores: Vec<ConfiguredIgnore>,
    /// Per-check severity overrides.
    pub severity: Vec<(&'static str, Severity)>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSettings {
    timeout: Option<Spanned<toml::Value>>,
    strict: Option<bool>,
    app: Option<String>,
    diagnose: Option<RawDiagnose>,
    #[serde(default)]
    ignore: Vec<Spanned<RawIgnore>>,
    #[serde(default)]
    severity: BTreeMap<Spanned<String>, Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDiagnose {
    url: Option<String>,
    path: Option<String>,
    origin: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIgnore {
    id: Spanned<String>,
    reason: Option<String>,
    service: Option<String>,
    file: Option<String>,
}

/// Only `[tool.wsdoctor]` of a pyproject.toml; everything else in it belongs to other tools.
#[derive(Debug, Deserialize)]
struct Pyproject {
    tool: Option<PyprojectTool>,
}

#[derive(Debug, Deserialize)]
struct PyprojectTool {
    wsdoctor: Option<RawSettings>,
}

/// Finds the config file for a run started in `start` (the project directory, else the
/// current directory).
pub fn discover(start: &Path) -> Option<PathBuf> {
    let start = std::fs::canonicalize(start).unwrap_or_else(|_| start.to_path_buf());
    let ancestors: Vec<&Path> = start.ancestors().collect();
    // Up to and including the repository root; outside a repository, the start only.
    let searched = match ancestors.iter().position(|d| d.join(".git").exists()) {
        Some(root) => &ancestors[..=root],
        None => &ancestors[..1],
    };
    for dir in searched {
        for name in FILE_NAMES {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Some(candidate);
            }
        }
        let pyproject = dir.join("pyproject.toml");
        if pyproject.is_file()
            && std::fs::read_to_string(&pyproject)
                .is_ok_and(|text| text.contains("tool.wsdoctor") || has_tool_table(&text))
        {
            return Some(pyproject);
        }
    }
    None
}

/// `[tool]` with a `wsdoctor` sub-table written in the dotted-key or nested style.
fn has_tool_table(text: &str) -> bool {
    toml::from_str::<toml::Table>(text).is_ok_and(|t| {
        t.get("tool")
            .and_then(|tool| tool.get("wsdoctor"))
            .is_some()
    })
}

/// Reads the config file that applies to `start`, if any.
pub fn load(start: &Path) -> Result<Settings, CliError> {
    match discover(start) {
        Some(path) => load_file(&path),
        None => Ok(Settings::default()),
    }
}

/// Reads and checks one config file.
pub fn load_file(path: &Path) -> Result<Settings, CliError> {
    let shown = display_path(path);
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::input(shown.clone(), format!("cannot read: {e}")))?;
    let is_pyproject = path.file_name().is_some_and(|n| n == "pyproject.toml");
    let raw = if is_pyproject {
        toml::from_str::<Pyproject>(&text)
            .map(|p| p.tool.and_then(|t| t.wsdoctor).unwrap_or_default())
    } else {
        toml::from_str::<RawSettings>(&text)
    }
    .map_err(|e| toml_error(&shown, &text, &e))?;
    resolve(raw, &shown, &text)
}

fn resolve(raw: RawSettings, shown: &str, text: &str) -> Result<Settings, CliError> {
    let at = |span: std::ops::Range<usize>, message: String| {
        let (line, column) = line_col(text, span.start);
        CliError::input_at(shown, line, column, message)
    };
    let timeout = match raw.timeout {
        None => None,
        Some(value) => {
            let span = value.span();
            let parsed = match value.into_inner() {
                toml::Value::String(s) => crate::cli::parse_timeout(&s),
                toml::Value::Integer(n) => crate::cli::parse_timeout(&n.to_string()),
                toml::Value::Float(f) => crate::cli::parse_timeout(&f.to_string()),
                other => Err(format!(
                    "timeout is a {}; give a duration such as \"3s\"",
                    other.type_str()
                )),
            };
            Some(parsed.map_err(|m| at(span, format!("timeout: {m}")))?)
        }
    };
    let mut ignores = Vec::new();
    for entry in raw.ignore {
        let span = entry.span();
        let entry = entry.into_inner();
        let id_span = entry.id.span();
        let id = known_id(entry.id.get_ref()).map_err(|m| at(id_span, m))?;
        let reason = entry
            .reason
            .map(|r| r.trim().to_string())
            .filter(|r| !r.is_empty())
            .ok_or_else(|| {
                at(
                    span.clone(),
                    format!(
                        "[[ignore]] of {id} has no reason; say why it is accepted \
                         (reason = \"…\"), so the next reader knows"
                    ),
                )
            })?;
        let (line, _) = line_col(text, span.start);
        ignores.push(ConfiguredIgnore {
            id,
            reason,
            service: entry.service,
            file: entry.file,
            location: Location {
                file: shown.to_string(),
                line: Some(line),
                column: None,
            },
        });
    }
    let mut severity = Vec::new();
    for (id, level) in raw.severity {
        let id_span = id.span();
        let id = known_id(id.get_ref()).map_err(|m| at(id_span, m))?;
        let level_span = level.span();
        let level = match level.get_ref().as_str() {
            "error" => Severity::Error,
            "warning" => Severity::Warning,
            other => {
                return Err(at(
                    level_span,
                    format!(
                        "severity of {id} is '{other}'; give \"error\" or \"warning\" \
                         (to silence a check, use [[ignore]] with a reason)"
                    ),
                ));
            }
        };
        severity.push((id, level));
    }
    let diagnose = raw.diagnose.unwrap_or_default();
    Ok(Settings {
        file: Some(shown.to_string()),
        timeout,
        strict: raw.strict.unwrap_or(false),
        app: raw.app,
        url: diagnose.url,
        path: diagnose.path,
        origin: diagnose.origin,
        ignores,
        severity,
    })
}

/// A check id of the catalogue, or why not (with the nearest id when there is one).
pub fn known_id(id: &str) -> Result<&'static str, String> {
    match catalogue::find(id) {
        Some(rule) => Ok(rule.id),
        None => Err(unknown_id_message(id)),
    }
}

/// `no check 'redis-url-host'; did you mean 'config.redis-url-host'? …`
pub fn unknown_id_message(id: &str) -> String {
    match catalogue::nearest(id) {
        Some(near) => {
            format!("no check '{id}'; did you mean '{near}'? (wsdoctor checks lists them all)")
        }
        None => format!("no check '{id}' (wsdoctor checks lists them all)"),
    }
}

/// The toml crate's error with its span turned into file:line:column.
fn toml_error(shown: &str, text: &str, e: &toml::de::Error) -> CliError {
    let message = format!("invalid wsdoctor config: {}", e.message().trim_end());
    match e.span() {
        Some(span) => {
            let (line, column) = line_col(text, span.start);
            CliError::input_at(shown, line, column, message)
        }
        None => CliError::input(shown, message),
    }
}

/// 1-based line and column (in characters) of a byte offset.
fn line_col(text: &str, offset: usize) -> (u32, u32) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (
        u32::try_from(line).unwrap_or(u32::MAX),
        u32::try_from(column).unwrap_or(u32::MAX),
    )
}

/// The path as the user reaches it from the current directory (`wsdoctor.toml`,
/// `../wsdoctor.toml`), else as given.
fn display_path(path: &Path) -> String {
    let cwd = std::env::current_dir().and_then(std::fs::canonicalize);
    let path_abs = std::fs::canonicalize(path);
    match (cwd, path_abs) {
        (Ok(cwd), Ok(abs)) => relative(&abs, &cwd).display().to_string(),
        _ => path.display().to_string(),
    }
}

/// `path` relative to `base` (both absolute), with `..` where it is above it.
fn relative(path: &Path, base: &Path) -> PathBuf {
    let path_parts: Vec<_> = path.components().collect();
    let base_parts: Vec<_> = base.components().collect();
    let common = path_parts
        .iter()
        .zip(&base_parts)
        .take_while(|(a, b)| a == b)
        .count();
    let mut out = PathBuf::new();
    for _ in common..base_parts.len() {
        out.push("..");
    }
    for part in &path_parts[common..] {
        out.push(part);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_climb_with_dotdot() {
        let rel = relative(Path::new("/r/wsdoctor.toml"), Path::new("/r/deploy/x"));
        assert_eq!(rel, Path::new("../../wsdoctor.toml"));
        let rel = relative(Path::new("/r/deploy/w.toml"), Path::new("/r"));
        assert_eq!(rel, Path::new("deploy/w.toml"));
    }

    #[test]
    fn line_col_counts_from_one() {
        assert_eq!(line_col("a = 1\nbb = x\n", 11), (2, 6));
        assert_eq!(line_col("", 0), (1, 1));
    }

    #[test]
    fn an_ignore_without_reason_is_refused_at_its_line() {
        let text = "timeout = \"2s\"\n\n[[ignore]]\nid = \"config.redis-timeout\"\n";
        let raw: RawSettings = toml::from_str(text).unwrap();
        let err = resolve(raw, "wsdoctor.toml", text).unwrap_err();
        let shown = err.to_string();
        assert!(shown.starts_with("wsdoctor.toml:3:"), "{shown}");
        assert!(shown.contains("no reason"), "{shown}");
    }

    #[test]
    fn a_bare_check_name_is_refused_with_its_family_id() {
        let text = "[severity]\n\"redis-timeout\" = \"error\"\n";
        let raw: RawSettings = toml::from_str(text).unwrap();
        let shown = resolve(raw, "w.toml", text).unwrap_err().to_string();
        assert!(shown.starts_with("w.toml:2:1:"), "{shown}");
        assert!(
            shown.contains("did you mean 'config.redis-timeout'"),
            "{shown}"
        );
    }
}
