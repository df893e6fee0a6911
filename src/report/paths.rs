//! How a report names the user's files (DESIGN.md: "relative to the repository root, else the
//! current directory"), so code hosts can match them: GitHub code scanning and annotations,
//! GitLab Code Quality all resolve a path against the repository's root, and
//! `docker-compose.yml` does not match `deploy/docker-compose.yml`.
//!
//! The repository root is the git work tree containing the file: the nearest directory above
//! it holding `.git` (a directory in a clone, a file in a worktree or submodule). No git
//! command is run: wsdoctor must work where git is not installed (a slim CI image).

use std::path::{Path, PathBuf};

/// The root of the git work tree containing `path` (an absolute path to a file or directory),
/// if any.
pub fn repo_root(path: &Path) -> Option<PathBuf> {
    let mut dir = Some(path);
    while let Some(d) = dir {
        if d.join(".git").exists() {
            return Some(d.to_path_buf());
        }
        dir = d.parent();
    }
    None
}

/// `path` (absolute, lexically clean) as a report shows it:
///
/// 1. relative to the root of the git work tree containing it;
/// 2. else relative to `cwd` when inside it;
/// 3. else relative to `project_dir` when inside it (a deployment in a temporary directory,
///    linted from elsewhere: `../../tmp/x/compose.yaml` would help nobody);
/// 4. else absolute.
///
/// Separators are `/` on every platform: the path is a name in a report, matched by code
/// hosts that speak URLs.
pub fn shown(path: &Path, cwd: &Path, project_dir: &Path) -> String {
    let relative = |base: &Path| -> Option<String> {
        let rel = path.strip_prefix(base).ok()?;
        if rel.as_os_str().is_empty() {
            return None;
        }
        Some(slashes(rel))
    };
    repo_root(path)
        .and_then(|root| relative(&root))
        .or_else(|| relative(cwd))
        .or_else(|| relative(project_dir))
        .unwrap_or_else(|| path.to_string_lossy().into_owned())
}

/// The directory a relative path of a report resolves against, found the way [`shown`] made
/// it: the git work tree of `cwd` or `cwd` itself, whichever holds `relative`. `None` when
/// neither does (rule 3 of [`shown`], or a file that no longer exists).
pub fn root_of(relative: &str, cwd: &Path) -> Option<PathBuf> {
    repo_root(cwd)
        .into_iter()
        .chain(std::iter::once(cwd.to_path_buf()))
        .find(|base| base.join(relative).exists())
}

fn slashes(rel: &Path) -> String {
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_in_order() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("repo");
        std::fs::create_dir_all(root.join(".git")).unwrap();
        std::fs::create_dir_all(root.join("deploy")).unwrap();
        let file = root.join("deploy/docker-compose.yml");
        std::fs::write(&file, "services: {}\n").unwrap();
        let elsewhere = tmp.path().join("elsewhere");
        // 1. the repository root, wherever the command runs from
        assert_eq!(
            shown(&file, &root.join("deploy"), &root.join("deploy")),
            "deploy/docker-compose.yml"
        );
        assert_eq!(repo_root(&file), Some(root.clone()));
        assert_eq!(
            root_of("deploy/docker-compose.yml", &root.join("deploy")),
            Some(root.clone())
        );
        // 2. no repository: the current directory
        let plain = tmp.path().join("plain/app/compose.yaml");
        assert_eq!(
            shown(&plain, tmp.path(), &tmp.path().join("plain/app")),
            "plain/app/compose.yaml"
        );
        // 3. outside the current directory: the project directory
        assert_eq!(
            shown(&plain, &elsewhere, &tmp.path().join("plain")),
            "app/compose.yaml"
        );
        // 4. else absolute
        assert_eq!(
            shown(&plain, &elsewhere, &elsewhere),
            plain.to_string_lossy()
        );
    }

    #[test]
    fn a_worktree_git_file_counts() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(
            tmp.path().join(".git"),
            "gitdir: /elsewhere/.git/worktrees/x\n",
        )
        .unwrap();
        let file = tmp.path().join("a/.env");
        assert_eq!(
            shown(&file, Path::new("/nowhere"), Path::new("/nowhere")),
            "a/.env"
        );
    }
}
