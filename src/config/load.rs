//! Reading a whole deployment the way every file-reading command does: the compose files
//! (discovered or given), the project `.env`, and the Python requirements beside them.

use std::path::PathBuf;

use crate::config::Deployment;
use crate::config::compose::{self, LoadOptions};
use crate::config::kube;
use crate::error::CliError;

/// Which files make the deployment (the command line's `--project-dir`, `-f`, `--env-file`).
#[derive(Debug, Clone, Default)]
pub struct DeploymentSource {
    pub project_dir: Option<PathBuf>,
    pub files: Vec<PathBuf>,
    pub env_file: Option<PathBuf>,
    /// `--profile` (repeatable): replaces COMPOSE_PROFILES, as in compose.
    pub profiles: Vec<String>,
    /// `-p/--project-name`: replaces COMPOSE_PROJECT_NAME, as in compose.
    pub project_name: Option<String>,
    /// `--helm-values` (repeatable, merged in order).
    pub helm_values: Vec<PathBuf>,
    /// `--proxy-config` (repeatable).
    pub proxy_configs: Vec<PathBuf>,
}

/// Reads the deployment. Without a project directory: the first `-f` file's directory (the
/// loader decides, as compose does, from an empty path), else the current directory.
pub fn load_deployment(source: &DeploymentSource) -> Result<Deployment, CliError> {
    let mut deployment = load_files(source)?;
    // The proxy in front belongs to every kind of deployment: mounted into a compose service,
    // or given with --proxy-config beside manifests, Helm values or Container Apps YAML.
    let cwd = std::env::current_dir().unwrap_or_default();
    let project_dir = deployment.project_dir.clone();
    let display = |p: &std::path::Path| crate::report::paths::shown(p, &cwd, &project_dir);
    deployment.proxies =
        crate::config::proxy::discover::discover(&deployment, &source.proxy_configs, &display)?;
    let proxy_ignores: Vec<_> = deployment
        .proxies
        .iter()
        .flat_map(|p| p.ignores.iter().cloned())
        .collect();
    deployment.ignores.extend(proxy_ignores);
    Ok(deployment)
}

/// The deployment files without the proxy: Container Apps YAML, Helm values, Kubernetes
/// manifests (each recognised by content), else compose.
fn load_files(source: &DeploymentSource) -> Result<Deployment, CliError> {
    // An empty path tells the loader no directory was given: compose then takes the first
    // compose file's directory (given, from COMPOSE_FILE, or found in a parent).
    let project_dir = source.project_dir.clone().unwrap_or_default();
    if !project_dir.as_os_str().is_empty() && !project_dir.is_dir() {
        return Err(CliError::input(
            project_dir.display().to_string(),
            "not a directory (give --project-dir the folder with your compose file)",
        ));
    }
    let peeked = Peeked::default();
    // `-f -` is read once: it may be Container Apps YAML, manifests or a compose file.
    // `--helm-values -` reads it as a values file.
    let is_stdin = |f: &PathBuf| f.as_os_str() == compose::STDIN_PATH;
    let stdin_files = source.files.iter().any(is_stdin);
    let stdin_values = source.helm_values.iter().filter(|f| is_stdin(f)).count();
    if stdin_values > 1 || (stdin_values == 1 && stdin_files) {
        return Err(CliError::Usage(
            "standard input can be read once: give `-` to one -f or one --helm-values".to_string(),
        ));
    }
    let stdin = if stdin_files || stdin_values == 1 {
        Some(compose::read_stdin()?)
    } else {
        None
    };
    // Azure Container Apps YAML is recognised by its content (`type: Microsoft.App/…`,
    // `properties.template`), as the issue asks: `-f app.yaml`, `-f DIR` and `-f -` need no
    // other flag.
    if let Some(files) = container_app_files(&source.files, stdin.as_ref(), &peeked)? {
        let stdin_text = match &stdin {
            Some(Ok(t)) => Some(t.as_str()),
            _ => None,
        };
        let mut deployment = crate::config::aca::load(&files, stdin_text, &project_dir)?;
        deployment.python_requirements = crate::config::requirements::scan(&deployment.project_dir);
        return Ok(deployment);
    }
    if !source.helm_values.is_empty() {
        return load_helm(source, &project_dir, stdin.as_ref());
    }
    if is_kubernetes(&source.files, stdin.as_ref(), &peeked)? {
        return load_manifests(source, &project_dir, stdin.as_ref());
    }
    // `--project-dir DIR` alone, on a directory of manifests without a compose file.
    if source.files.is_empty()
        && source.env_file.is_none()
        && !project_dir.as_os_str().is_empty()
        && std::env::var_os("COMPOSE_FILE").is_none()
        && !compose::DEFAULT_FILE_NAMES
            .iter()
            .any(|n| project_dir.join(n).is_file())
        && peeked.has_manifests(&project_dir)
    {
        let source = DeploymentSource {
            files: vec![project_dir.clone()],
            ..source.clone()
        };
        return load_manifests(&source, &project_dir, None);
    }
    // `--project-dir DIR` alone, on a directory of Container Apps YAML without a compose file.
    if source.files.is_empty()
        && source.env_file.is_none()
        && !project_dir.as_os_str().is_empty()
        && std::env::var_os("COMPOSE_FILE").is_none()
        && !compose::DEFAULT_FILE_NAMES
            .iter()
            .any(|n| project_dir.join(n).is_file())
        && let Some(files) = container_app_files(std::slice::from_ref(&project_dir), None, &peeked)?
    {
        let mut deployment = crate::config::aca::load(&files, None, &project_dir)?;
        deployment.python_requirements = crate::config::requirements::scan(&deployment.project_dir);
        return Ok(deployment);
    }
    let opts = LoadOptions {
        project_dir,
        files: source.files.clone(),
        env_file: source.env_file.clone(),
        process_env: with_flags(std::env::vars().collect(), source),
    };
    let mut deployment = match compose::load_with_stdin(&opts, stdin) {
        Ok(d) => d,
        // `--proxy-config` alone is a deployment source: the proxy checks run on it without
        // a compose file (the checks that need the app's service then skip).
        Err(CliError::Input { message, .. })
            if !source.proxy_configs.is_empty()
                && source.files.is_empty()
                && message.starts_with("no compose file found") =>
        {
            let cwd = std::env::current_dir().unwrap_or_default();
            Deployment {
                project_dir: crate::config::compose::absolute(&cwd, &opts.project_dir),
                ..Deployment::default()
            }
        }
        Err(e) => return Err(e),
    };
    deployment.python_requirements = crate::config::requirements::scan(&deployment.project_dir);
    Ok(deployment)
}

/// The `-f` files when every one is Container Apps YAML; None when none is (compose or the
/// manifest reader takes them). Standard input counts by the text already read; a directory
/// counts when it holds Container Apps YAML and no Kubernetes manifest, and stands for its
/// Container Apps files (other YAML beside them, such as a compose file, is not read).
/// The text of each file the source detection looks at, read once per run: deciding between
/// Container Apps YAML, Kubernetes manifests and compose looks at the same files (a
/// directory's, several times), and each read goes through the loaders' size limit.
#[derive(Default)]
struct Peeked(std::cell::RefCell<std::collections::HashMap<PathBuf, Option<std::rc::Rc<str>>>>);

impl Peeked {
    /// The file's text, or None when it cannot be read or is refused (too large, not UTF-8):
    /// the loader that reads it for real reports why.
    fn text(&self, f: &std::path::Path) -> Option<std::rc::Rc<str>> {
        if let Some(t) = self.0.borrow().get(f) {
            return t.clone();
        }
        let text = (!(f.starts_with("/dev") || f.starts_with("/proc")) && f.is_file())
            .then(|| {
                compose::read_text(f, &f.display().to_string())
                    .ok()
                    .and_then(Result::ok)
            })
            .flatten()
            .map(std::rc::Rc::from);
        self.0.borrow_mut().insert(f.to_path_buf(), text.clone());
        text
    }

    fn has_manifests(&self, dir: &std::path::Path) -> bool {
        kube::files_under(dir)
            .iter()
            .any(|f| self.text(f).is_some_and(|t| kube::looks_like_manifests(&t)))
    }
}

fn container_app_files(
    files: &[PathBuf],
    stdin: Option<&Result<String, compose::Refusal>>,
    peeked: &Peeked,
) -> Result<Option<Vec<PathBuf>>, CliError> {
    // Unreadable or refused content: compose's reader reports it as before.
    let is_aca_file = |f: &std::path::Path| {
        peeked
            .text(f)
            .is_some_and(|t| crate::config::aca::is_container_app_text(&t))
    };
    let mut aca = Vec::new();
    let mut other = Vec::new();
    for f in files {
        if f.as_os_str() == compose::STDIN_PATH {
            match stdin {
                Some(Ok(t)) if crate::config::aca::is_container_app_text(t) => aca.push(f.clone()),
                _ => other.push(f.clone()),
            }
        } else if f.is_dir() {
            let apps: Vec<PathBuf> = kube::files_under(f)
                .into_iter()
                .filter(|p| is_aca_file(p))
                .collect();
            if apps.is_empty() || peeked.has_manifests(f) {
                other.push(f.clone());
            } else {
                aca.extend(apps);
            }
        } else if is_aca_file(f) {
            aca.push(f.clone());
        } else {
            other.push(f.clone());
        }
    }
    match (aca.is_empty(), other.is_empty()) {
        (true, _) => Ok(None),
        (false, true) => Ok(Some(aca)),
        (false, false) => Err(CliError::Usage(format!(
            "-f {} is Azure Container Apps YAML and -f {} is not: lint them in separate runs",
            aca[0].display(),
            other[0].display()
        ))),
    }
}

/// Whether the `-f` files are Kubernetes manifests, by content: a directory, or a file whose
/// text has `apiVersion:` and `kind:` keys (see [`kube::looks_like_manifests`]). A path that
/// does not exist is left to the compose loader's error.
fn is_kubernetes(
    files: &[PathBuf],
    stdin: Option<&Result<String, compose::Refusal>>,
    peeked: &Peeked,
) -> Result<bool, CliError> {
    for f in files {
        if f.as_os_str() == compose::STDIN_PATH {
            if let Some(Ok(text)) = stdin
                && kube::looks_like_manifests(text)
            {
                return Ok(true);
            }
            continue;
        }
        // A directory of manifests (an empty one, or one without manifests, is left to the
        // compose loader, which refuses a directory).
        if f.is_dir() && peeked.has_manifests(f) {
            return Ok(true);
        }
        if peeked
            .text(f)
            .is_some_and(|t| kube::looks_like_manifests(&t))
        {
            return Ok(true);
        }
    }
    Ok(false)
}

fn load_manifests(
    source: &DeploymentSource,
    project_dir: &std::path::Path,
    stdin: Option<&Result<String, compose::Refusal>>,
) -> Result<Deployment, CliError> {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    for f in &source.files {
        if f.as_os_str() != compose::STDIN_PATH && !f.exists() {
            return Err(CliError::input(
                f.display().to_string(),
                "no such file or directory",
            ));
        }
    }
    let absolute = |p: &std::path::Path| {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            cwd.join(p)
        }
    };
    let project_dir = if project_dir.as_os_str().is_empty() {
        source
            .files
            .iter()
            .find(|f| f.as_os_str() != compose::STDIN_PATH)
            .map(|f| {
                let f = absolute(f);
                if f.is_dir() {
                    f
                } else {
                    f.parent().map(PathBuf::from).unwrap_or_else(|| cwd.clone())
                }
            })
            .unwrap_or_else(|| cwd.clone())
    } else {
        absolute(project_dir)
    };
    let shown =
        |p: &std::path::Path| crate::report::paths::shown(&clean(&absolute(p)), &cwd, &project_dir);
    let stdin_text = match stdin {
        Some(Ok(t)) => Some(t.as_str()),
        _ => None,
    };
    kube::load(&source.files, stdin_text, &project_dir, &shown)
}

/// `--helm-values`: the objects the Open WebUI chart renders from the values files (see
/// [`crate::config::helm`]), read like manifests, so every `config.*` and `kube.*` check runs
/// on them. `-f` manifests given beside them join the same cluster (a Redis or an Ingress
/// deployed outside the chart); `-f` compose files cannot be combined with Helm values.
/// Without --project-dir, the project directory is the first values file's directory.
fn load_helm(
    source: &DeploymentSource,
    project_dir: &std::path::Path,
    stdin: Option<&Result<String, compose::Refusal>>,
) -> Result<Deployment, CliError> {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let absolute = |p: &std::path::Path| {
        clean(&if p.is_absolute() {
            p.to_path_buf()
        } else {
            cwd.join(p)
        })
    };
    let project_dir = if project_dir.as_os_str().is_empty() {
        source
            .helm_values
            .first()
            .filter(|f| f.as_os_str() != compose::STDIN_PATH)
            .and_then(|f| absolute(f).parent().map(PathBuf::from))
            .unwrap_or_else(|| cwd.clone())
    } else {
        absolute(project_dir)
    };
    for f in source.helm_values.iter().chain(&source.files) {
        if f.as_os_str() != compose::STDIN_PATH && !f.exists() {
            return Err(CliError::input(
                f.display().to_string(),
                "no such file or directory",
            ));
        }
    }
    let shown = |p: &std::path::Path| crate::report::paths::shown(&absolute(p), &cwd, &project_dir);
    let mut read = kube::ReadManifests::default();
    if !source.files.is_empty() {
        if !is_kubernetes(&source.files, stdin, &Peeked::default())? {
            return Err(CliError::Usage(
                "--helm-values renders Kubernetes objects: -f may add Kubernetes manifests beside them, not compose files".to_string(),
            ));
        }
        for path in &source.files {
            if path.as_os_str() == compose::STDIN_PATH {
                if let Some(Ok(text)) = stdin {
                    read.add_text("-", text);
                }
            } else if path.is_dir() {
                for f in kube::files_under(path) {
                    let text =
                        String::from_utf8_lossy(&std::fs::read(&f).map_err(|e| {
                            CliError::input(shown(&f), format!("cannot read: {e}"))
                        })?)
                        .into_owned();
                    read.add_text(&shown(&f), &text);
                }
            } else {
                let text = String::from_utf8_lossy(
                    &std::fs::read(path)
                        .map_err(|e| CliError::input(shown(path), format!("cannot read: {e}")))?,
                )
                .into_owned();
                read.add_text(&shown(path), &text);
            }
        }
    }
    let values: Vec<PathBuf> = source
        .helm_values
        .iter()
        .map(|p| {
            if p.as_os_str() == compose::STDIN_PATH {
                p.clone()
            } else {
                absolute(p)
            }
        })
        .collect();
    let helm = crate::config::helm::read(&values, stdin, &cwd, &project_dir)?;
    let mut manifests = read.manifests;
    let offset = u32::try_from(manifests.files.len()).unwrap_or(u32::MAX);
    manifests.files.extend(helm.manifests.files);
    manifests
        .objects
        .extend(helm.manifests.objects.into_iter().map(|mut o| {
            crate::config::helm::offset_files(&mut o, offset);
            o
        }));
    let mut dep = kube::deployment_from_manifests(&manifests, &project_dir);
    dep.ignores = read.ignores;
    dep.ignores.extend(helm.ignores);
    dep.secrets.merge(&helm.secrets);
    let cluster = dep.kube.get_or_insert_with(Default::default);
    cluster.syntax.extend(read.syntax);
    cluster.syntax.extend(helm.problems);
    cluster.kustomizations.extend(read.kustomizations);
    dep.helm = helm.facts;
    Ok(dep)
}

/// `a/./b/../c` → `a/c`, without touching the file system (symlinks stay as given).
fn clean(path: &std::path::Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// The flags compose gives precedence over their variables, set as those variables: the
/// loader reads COMPOSE_PROFILES and COMPOSE_PROJECT_NAME from one place (docker/compose
/// `toProjectOptions`: `WithDefaultProfiles(o.Profiles...)`, `WithName(o.ProjectName)`).
fn with_flags(
    mut env: std::collections::BTreeMap<String, String>,
    source: &DeploymentSource,
) -> std::collections::BTreeMap<String, String> {
    if !source.profiles.is_empty() {
        env.insert("COMPOSE_PROFILES".to_string(), source.profiles.join(","));
    }
    if let Some(name) = source
        .project_name
        .as_ref()
        .filter(|n| !n.trim().is_empty())
    {
        env.insert("COMPOSE_PROJECT_NAME".to_string(), name.clone());
    }
    env
}
