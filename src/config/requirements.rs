//! Python requirement files of the project (requirements*.txt, pyproject.toml), read for the
//! dependency checks. Only package names and version specifiers are kept.

use std::path::Path;

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

fn normalise(name: &str) -> String {
    name.to_ascii_lowercase().replace(['_', '.'], "-")
}

/// Reads the requirements of one file's text.
pub fn parse(path: &str, text: &str) -> RequirementsFile {
    if path.ends_with("package.json") {
        return parse_package_json(path, text);
    }
    let toml = path.ends_with(".toml");
    let mut packages = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let mut l = line.trim();
        if toml {
            // Dependency strings: array items (`"redis>=4.2",`) or an inline
            // `dependencies = ["redis>=4.2"]`; a `key = "value"` line is not one.
            let item = if l.starts_with('"') {
                Some(l)
            } else if l.contains("dependencies") || l.starts_with("requires") {
                l.find('[').map(|b| &l[b + 1..])
            } else {
                None
            };
            let Some(item) = item else { continue };
            let Some(start) = item.find('"') else {
                continue;
            };
            let rest = &item[start + 1..];
            let Some(end) = rest.find('"') else { continue };
            l = &rest[..end];
        }
        let l = l.split('#').next().unwrap_or("").trim();
        if l.is_empty() || l.starts_with('-') {
            continue;
        }
        let name_end = l
            .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
            .unwrap_or(l.len());
        let name = &l[..name_end];
        if name.is_empty() {
            continue;
        }
        let mut spec = l[name_end..].trim();
        if let Some(extras_end) = spec.strip_prefix('[').and_then(|s| s.find(']')) {
            spec = spec[extras_end + 2..].trim();
        }
        let spec = spec.split(';').next().unwrap_or("").trim();
        let column = line.find(name).map_or(1, |c| c + 1);
        packages.push(Requirement {
            name: normalise(name),
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
