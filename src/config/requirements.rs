//! Python requirement files of the project (requirements*.txt, pyproject.toml), read for the
//! dependency checks. Only package names and version specifiers are kept.
//!
//! Parsers, not line heuristics (a Poetry table or a single-quoted TOML string was missed):
//! - TOML with the `toml` crate (toml-rs, the parser Cargo uses; spans from `Spanned`).
//! - PEP 508 requirement strings with `pep508_rs` (by the author of uv, whose resolver grew
//!   out of it; it implements the full grammar: extras, markers, URLs, and normalises names
//!   as PEP 503). It pulls no TLS (url, regex only), so the rustls-only graph holds.
//! - Poetry constraints (`^4.2`, `~4.2`, `4.2.*`, `>=4,<5`) are translated to the PEP 440
//!   range they mean (poetry-core `semver/helpers.py` `parse_constraint`, 1.9) so the
//!   version checks read one syntax.

use std::collections::BTreeMap;
use std::path::Path;
use std::str::FromStr;

use serde::Deserialize;
use toml::Spanned;

use crate::config::{Requirement, RequirementsFile, Span};

/// Files larger than this are not requirement lists; skip them rather than read them.
const MAX_SIZE: u64 = 1 << 20;

fn is_requirements_name(name: &str) -> bool {
    (name.starts_with("requirements") && name.ends_with(".txt"))
        || name == "pyproject.toml"
        || name == "package.json"
}

/// The dependencies of a package.json (`"socket.io": "^4.7.0"` lines inside a
/// `dependencies` / `devDependencies` / `peerDependencies` object), names kept as written
/// (npm names are lowercase already).
fn parse_package_json(path: &str, text: &str) -> RequirementsFile {
    let mut packages = Vec::new();
    let mut inside = false;
    for (i, line) in text.lines().enumerate() {
        let l = line.trim();
        if !inside {
            inside = l.contains("ependencies\"") && l.ends_with('{');
            continue;
        }
        if l.starts_with('}') {
            inside = false;
            continue;
        }
        let Some((name, spec)) = l.split_once(':') else {
            continue;
        };
        let name = name.trim().trim_matches('"');
        if name.is_empty() {
            continue;
        }
        let spec = spec.trim().trim_end_matches(',').trim_matches('"');
        let column = line.find(name).map_or(1, |c| c + 1);
        packages.push(Requirement {
            name: name.to_string(),
            spec: spec.to_string(),
            span: Span::new(
                path,
                u32::try_from(i + 1).unwrap_or(u32::MAX),
                u32::try_from(column).unwrap_or(1),
            ),
        });
    }
    RequirementsFile {
        path: path.to_string(),
        packages,
    }
}

/// PEP 503 normalisation: lowercase, runs of `-`, `_`, `.` as one `-`.
fn normalise(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !out.ends_with('-') {
                out.push('-');
            }
        } else {
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

/// One PEP 508 string as (normalised name, version specifier); None when it does not parse
/// or names no package (a bare URL).
fn pep508(text: &str) -> Option<(String, String)> {
    let req = pep508_rs::Requirement::<pep508_rs::VerbatimUrl>::from_str(text.trim()).ok()?;
    let spec = match &req.version_or_url {
        Some(pep508_rs::VersionOrUrl::VersionSpecifier(v)) => v.to_string(),
        _ => String::new(),
    };
    Some((req.name.to_string(), spec))
}

/// Line and column (1-based) of a byte offset.
fn line_col(text: &str, offset: usize) -> (u32, u32) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[start..].chars().count() + 1;
    (
        u32::try_from(line).unwrap_or(u32::MAX),
        u32::try_from(column).unwrap_or(u32::MAX),
    )
}

/// requirements*.txt as pip reads it: `\` joins lines, ` #` starts a comment, `-r`/`-e`/
/// `--hash` options are not requirements (pip `req_file.py`, 24.0).
fn parse_requirements_txt(path: &str, text: &str) -> RequirementsFile {
    let mut packages = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let first = i;
        let mut logical = String::new();
        loop {
            let l = lines[i];
            i += 1;
            match l.strip_suffix('\\') {
                Some(head) if i < lines.len() => logical.push_str(head),
                _ => {
                    logical.push_str(l);
                    break;
                }
            }
        }
        // A comment starts at `#` at the line start or after whitespace (URLs keep `#egg=`).
        let code = match logical.find(" #").or(logical.find("\t#")) {
            _ if logical.trim_start().starts_with('#') => "",
            Some(at) => &logical[..at],
            None => logical.as_str(),
        };
        // Per-requirement options (`--hash=…`) follow the requirement.
        let code = code.split(" --").next().unwrap_or("").trim();
        if code.is_empty() || code.starts_with('-') {
            continue;
        }
        let Some((name, spec)) = pep508(code) else {
            continue;
        };
        let line = lines[first];
        let column = line
            .to_ascii_lowercase()
            .replace(['_', '.'], "-")
            .find(&name)
            .map_or(1, |c| c + 1);
        packages.push(Requirement {
            name,
            spec,
            span: Span::new(
                path,
                u32::try_from(first + 1).unwrap_or(u32::MAX),
                u32::try_from(column).unwrap_or(1),
            ),
        });
    }
    RequirementsFile {
        path: path.to_string(),
        packages,
    }
}

/// The parts of pyproject.toml that list dependencies. Unknown keys are ignored; a value of
/// another shape makes the whole file unreadable as a dependency list (it is a hint).
#[derive(Deserialize, Default)]
struct Pyproject {
    #[serde(default)]
    project: Option<Project>,
    #[serde(default)]
    tool: Option<Tool>,
    /// PEP 735 `[dependency-groups]` (uv, pdm): lists of PEP 508 strings, or
    /// `{include-group = …}` tables, which name no package.
    #[serde(default, rename = "dependency-groups")]
    dependency_groups: BTreeMap<String, Vec<toml::Value>>,
}

#[derive(Deserialize, Default)]
struct Project {
    #[serde(default)]
    dependencies: Vec<Spanned<String>>,
    #[serde(default, rename = "optional-dependencies")]
    optional_dependencies: BTreeMap<String, Vec<Spanned<String>>>,
}

#[derive(Deserialize, Default)]
struct Tool {
    #[serde(default)]
    poetry: Option<Poetry>,
}

/// Poetry 1.x/2.x: `[tool.poetry.dependencies]`, the legacy `dev-dependencies`, and
/// `[tool.poetry.group.NAME.dependencies]`.
#[derive(Deserialize, Default)]
struct Poetry {
    #[serde(default)]
    dependencies: BTreeMap<Spanned<String>, toml::Value>,
    #[serde(default, rename = "dev-dependencies")]
    dev_dependencies: BTreeMap<Spanned<String>, toml::Value>,
    #[serde(default)]
    group: BTreeMap<String, PoetryGroup>,
}

#[derive(Deserialize, Default)]
struct PoetryGroup {
    #[serde(default)]
    dependencies: BTreeMap<Spanned<String>, toml::Value>,
}

/// A Poetry constraint as the PEP 440 range it means: `^4.2` is `>=4.2,<5.0`, `~4.2` is
/// `>=4.2,<4.3`, a bare `4.1.0` is `==4.1.0`, `*` is anything (poetry-core
/// `constraints/version/parser.py`).
fn poetry_to_pep440(constraint: &str) -> String {
    let clauses = constraint
        .split([',', ' '])
        .map(str::trim)
        .filter(|c| !c.is_empty());
    let mut out = Vec::new();
    for clause in clauses {
        let parts = |v: &str| -> Vec<u64> {
            v.split('.')
                .map_while(|p| p.trim_end_matches('*').parse().ok())
                .collect()
        };
        if clause == "*" {
            continue;
        } else if let Some(v) = clause.strip_prefix('^') {
            let p = parts(v);
            // The first non-zero component is the one that may not change.
            let upper = match p.iter().position(|&x| x != 0) {
                Some(0) | None => format!("{}.0", p.first().copied().unwrap_or(0) + 1),
                Some(1) => format!("0.{}", p[1] + 1),
                Some(k) => format!("0.0.{}", p[k] + 1),
            };
            out.push(format!(">={v}"));
            out.push(format!("<{upper}"));
        } else if let Some(v) = clause.strip_prefix("~=") {
            out.push(format!("~={v}"));
        } else if let Some(v) = clause.strip_prefix('~') {
            let p = parts(v);
            let upper = match p.as_slice() {
                [major] => format!("{}.0", major + 1),
                [major, minor, ..] => format!("{major}.{}", minor + 1),
                [] => String::new(),
            };
            out.push(format!(">={v}"));
            if !upper.is_empty() {
                out.push(format!("<{upper}"));
            }
        } else if clause.starts_with(['<', '>', '=', '!']) {
            out.push(clause.to_string());
        } else {
            out.push(format!("=={clause}"));
        }
    }
    out.join(",")
}

/// The version of a Poetry dependency value: `"^4.2"`, `{version = "^4.2", …}`, or a list
/// of such tables for several Python versions (the first one is taken).
fn poetry_version(value: &toml::Value) -> String {
    match value {
        toml::Value::String(s) => poetry_to_pep440(s),
        toml::Value::Table(t) => t
            .get("version")
            .and_then(toml::Value::as_str)
            .map(poetry_to_pep440)
            .unwrap_or_default(),
        toml::Value::Array(a) => a.first().map(poetry_version).unwrap_or_default(),
        _ => String::new(),
    }
}

fn parse_pyproject(path: &str, text: &str) -> RequirementsFile {
    let mut packages = Vec::new();
    let doc: Pyproject = toml::from_str(text).unwrap_or_default();
    let span_at = |offset: usize| {
        let (line, column) = line_col(text, offset);
        Span::new(path, line, column)
    };
    let mut pep508_strings: Vec<&Spanned<String>> = Vec::new();
    if let Some(project) = &doc.project {
        pep508_strings.extend(project.dependencies.iter());
        pep508_strings.extend(project.optional_dependencies.values().flatten());
    }
    for item in &pep508_strings {
        if let Some((name, spec)) = pep508(item.get_ref()) {
            // Inside the quotes: the span starts at the opening quote.
            packages.push(Requirement {
                name,
                spec,
                span: span_at(item.span().start + 1),
            });
        }
    }
    // Group entries are plain values (no spans through toml::Value): find the string.
    for value in doc.dependency_groups.values().flatten() {
        if let Some(s) = value.as_str()
            && let Some((name, spec)) = pep508(s)
        {
            let offset = text.find(s).map_or(0, |o| o);
            packages.push(Requirement {
                name,
                spec,
                span: span_at(offset),
            });
        }
    }
    if let Some(poetry) = doc.tool.and_then(|t| t.poetry) {
        let tables = [&poetry.dependencies, &poetry.dev_dependencies]
            .into_iter()
            .chain(poetry.group.values().map(|g| &g.dependencies));
        for table in tables {
            for (key, value) in table {
                // `python` is the interpreter constraint, not a package.
                if key.get_ref() == "python" {
                    continue;
                }
                packages.push(Requirement {
                    name: normalise(key.get_ref()),
                    spec: poetry_version(value),
                    span: span_at(key.span().start),
                });
            }
        }
    }
    packages.sort_by_key(|p| (p.span.line, p.span.column));
    RequirementsFile {
        path: path.to_string(),
        packages,
    }
}

/// Reads the requirements of one file's text.
pub fn parse(path: &str, text: &str) -> RequirementsFile {
    if path.ends_with("package.json") {
        parse_package_json(path, text)
    } else if path.ends_with(".toml") {
        parse_pyproject(path, text)
    } else {
        parse_requirements_txt(path, text)
    }
}

/// Finds requirement files in the project directory and its direct subdirectories (build
/// contexts usually sit there). Unreadable files are skipped: they are hints, not inputs.
pub fn scan(project_dir: &Path) -> Vec<RequirementsFile> {
    let mut found = Vec::new();
    let mut dirs = vec![(project_dir.to_path_buf(), String::new())];
    if let Ok(entries) = std::fs::read_dir(project_dir) {
        let mut subdirs: Vec<_> = entries
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .filter(|e| {
                let n = e.file_name();
                let n = n.to_string_lossy();
                !n.starts_with('.') && n != "node_modules" && n != "target"
            })
            .map(|e| (e.path(), format!("{}/", e.file_name().to_string_lossy())))
            .collect();
        subdirs.sort();
        dirs.extend(subdirs);
    }
    for (dir, prefix) in dirs {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut files: Vec<_> = entries
            .flatten()
            .filter(|e| is_requirements_name(&e.file_name().to_string_lossy()))
            .filter(|e| {
                e.metadata()
                    .is_ok_and(|m| m.is_file() && m.len() <= MAX_SIZE)
            })
            .collect();
        files.sort_by_key(|e| e.file_name());
        for e in files {
            if let Ok(text) = std::fs::read_to_string(e.path()) {
                let display = format!("{prefix}{}", e.file_name().to_string_lossy());
                found.push(parse(&display, &text));
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_requirements_txt_and_pyproject() {
        let f = parse(
            "requirements.txt",
            "python-socketio==5.11\naioredis>=1.3 # old\n-r base.txt\nredis[hiredis]==4.1.0; python_version>'3.8'\n",
        );
        let names: Vec<&str> = f.packages.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["python-socketio", "aioredis", "redis"]);
        assert_eq!(f.packages[1].span.line, 2);
        assert!(f.packages[2].pins_below(4, 2));
        let t = parse(
            "pyproject.toml",
            "[project]\nname = \"app\"\ndependencies = [\n  \"redis>=5\",\n  \"python_socketio~=5.0\",\n]\n",
        );
        let names: Vec<&str> = t.packages.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["redis", "python-socketio"]);
        assert!(!t.packages[0].pins_below(4, 2));
    }

    #[test]
    fn reads_poetry_tables_and_single_quoted_pep621_lists() {
        let t = parse(
            "pyproject.toml",
            "[project]\nname = 'app'\ndependencies = ['aioredis>=1.3', 'redis[hiredis] == 4.1.0 ; python_version > \"3.8\"']\n\n[project.optional-dependencies]\nws = ['python-socketio~=5.0']\n",
        );
        let got: Vec<(&str, &str, u32)> = t
            .packages
            .iter()
            .map(|p| (p.name.as_str(), p.spec.as_str(), p.span.line))
            .collect();
        assert_eq!(
            got,
            [
                ("aioredis", ">=1.3", 3),
                ("redis", "==4.1.0", 3),
                ("python-socketio", "~=5.0", 6)
            ]
        );
        assert!(t.packages[1].pins_below(4, 2));
        let p = parse(
            "pyproject.toml",
            "[tool.poetry]\nname = \"app\"\n\n[tool.poetry.dependencies]\npython = \"^3.11\"\naioredis = \"^1.3\"\nRedis = { version = \"~4.1\", extras = [\"hiredis\"] }\n\n[tool.poetry.group.dev.dependencies]\npython_socketio = \"5.11.0\"\n",
        );
        let got: Vec<(&str, &str, u32, u32)> = p
            .packages
            .iter()
            .map(|p| (p.name.as_str(), p.spec.as_str(), p.span.line, p.span.column))
            .collect();
        assert_eq!(
            got,
            [
                ("aioredis", ">=1.3,<2.0", 6, 1),
                ("redis", ">=4.1,<4.2", 7, 1),
                ("python-socketio", "==5.11.0", 10, 1)
            ]
        );
        assert!(p.packages[1].pins_below(4, 2));
        assert!(!p.packages[0].pins_below(1, 3));
    }

    #[test]
    fn requirements_txt_continuations_hashes_and_urls() {
        let f = parse(
            "requirements.txt",
            "# comment\nredis==4.1.0 \\\n    --hash=sha256:abc\nflask-socketio @ https://example.invalid/f.whl#egg=x\n-e .\n",
        );
        let got: Vec<(&str, &str, u32)> = f
            .packages
            .iter()
            .map(|p| (p.name.as_str(), p.spec.as_str(), p.span.line))
            .collect();
        assert_eq!(got, [("redis", "==4.1.0", 2), ("flask-socketio", "", 4)]);
    }

    #[test]
    fn reads_package_json_dependencies() {
        let f = parse(
            "app/package.json",
            "{\n  \"name\": \"chat\",\n  \"dependencies\": {\n    \"socket.io\": \"^4.8.1\",\n    \"@socket.io/redis-adapter\": \"^8.3.0\"\n  },\n  \"scripts\": {\n    \"start\": \"node index.js\"\n  }\n}\n",
        );
        let names: Vec<&str> = f.packages.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["socket.io", "@socket.io/redis-adapter"]);
        assert_eq!(f.packages[0].spec, "^4.8.1");
        assert_eq!(f.packages[0].span.line, 4);
    }
}
