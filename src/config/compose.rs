//! Loading compose files into the deployment model, as docker compose would.
//! `load` is the contract with every command that reads files.
//!
//! The steps follow compose-go's loader (`cli/options.go`, `loader/loader.go`): the project
//! `.env` (or `--env-file`) gives the interpolation environment together with the process
//! environment (the process wins); the compose files are `-f`, else `COMPOSE_FILE`, else the
//! first of compose.yaml / compose.yml / docker-compose.yml / docker-compose.yaml found in the
//! project directory or a parent, plus the first `*.override.*` beside it. Each file (each
//! document of a file) is interpolated, its `extends` applied, then merged onto the ones before
//! (see `merge`). The merged tree becomes the model (see `service`).

mod merge;
mod service;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path, PathBuf};

use crate::config::interpolate::{self, InterpolationError};
use crate::config::yaml::{self, Node, Value};
use crate::config::{
    Deployment, EnvFile, InterpolationFinding, InterpolationProblem, Network, Span,
    StructureProblem, dotenv, scan_ignores,
};
use crate::error::CliError;

/// What to read.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    pub project_dir: PathBuf,
    /// Compose files given with -f, in order; empty: discover (or COMPOSE_FILE).
    pub files: Vec<PathBuf>,
    /// --env-file; default: project_dir/.env when it exists.
    pub env_file: Option<PathBuf>,
    /// The process environment (wins over .env for interpolation, as in compose).
    pub process_env: BTreeMap<String, String>,
}

/// The names compose looks for, in its order of preference (compose-go `consts`).
pub const DEFAULT_FILE_NAMES: [&str; 4] = [
    "compose.yaml",
    "compose.yml",
    "docker-compose.yml",
    "docker-compose.yaml",
];
pub const DEFAULT_OVERRIDE_FILE_NAMES: [&str; 4] = [
    "compose.override.yml",
    "compose.override.yaml",
    "docker-compose.override.yml",
    "docker-compose.override.yaml",
];

/// Compose files above this size are refused before parsing: the largest real ones are a
/// few hundred KiB, and parsing cost grows with size.
pub const MAX_FILE_BYTES: u64 = 8 * 1024 * 1024;

/// Reads the deployment. Errors (exit 2): no compose file found, a file given that does not
/// exist or cannot be opened. A file that exists but does not parse (invalid YAML, an alias
/// bomb, over the size limit, not UTF-8, not a mapping) is a `config.compose-syntax` /
/// `config.env-syntax` finding instead (DESIGN.md exit codes), so every format reports it.
pub fn load(opts: &LoadOptions) -> Result<Deployment, CliError> {
    Loader::new(opts)?.run()
}

/// [`load`] with standard input already read (`-f -` read once to tell manifests from
/// compose).
pub fn load_with_stdin(
    opts: &LoadOptions,
    stdin: Option<Result<String, Refusal>>,
) -> Result<Deployment, CliError> {
    let mut loader = Loader::new(opts)?;
    loader.stdin = stdin;
    loader.run()
}

/// A file read by the loader; nodes refer to it by index.
struct SourceFile {
    display: String,
    path: PathBuf,
    /// The directory relative paths in this file resolve against: the project directory
    /// for the project's files, the file's own directory for an `extends.file` target
    /// (compose-go resolves extended services' paths from their file).
    base_dir: PathBuf,
    text: String,
    /// The content could not be read as YAML text (too large, not UTF-8): already reported.
    refused: bool,
}

/// Ends the message of a file compose refuses to parse (see [`unparsed_files`]).
const REFUSED_SUFFIX: &str = " (docker compose refuses this file)";

/// The compose files of `dep` that did not parse (each a `config.compose-syntax` finding):
/// what they would have said (services, Redis URLs, where to probe) is unknown.
pub fn unparsed_files(dep: &Deployment) -> Vec<&str> {
    let mut files: Vec<&str> = Vec::new();
    for p in dep
        .structure
        .iter()
        .filter(|p| p.message.ends_with(REFUSED_SUFFIX))
    {
        if let Some(file) = p.span.as_ref().map(|s| s.file.as_str())
            && !files.contains(&file)
        {
            files.push(file);
        }
    }
    files
}

/// `-f -`: the compose file is standard input (compose accepts it).
pub const STDIN_PATH: &str = "-";

fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == STDIN_PATH
}

/// A pipe or device named by the system (`/dev/fd/63`, `/dev/stdin`, `/proc/self/fd/0`),
/// not a file in a project.
fn is_special_file(path: &Path) -> bool {
    path.starts_with("/dev") || path.starts_with("/proc")
}

pub(crate) struct Loader<'a> {
    opts: &'a LoadOptions,
    cwd: PathBuf,
    project_dir: PathBuf,
    /// The interpolation environment: the .env, then the process environment over it.
    env: BTreeMap<String, String>,
    files: Vec<SourceFile>,
    dep: Deployment,
    /// `extends.file` targets already parsed (absolute path → interpolated document).
    extends_cache: BTreeMap<PathBuf, Option<Node>>,
    /// Files (or documents) that did not parse, each already a `config.compose-syntax` finding.
    unparsed: usize,
    /// Standard input, when `-f -` was read before.
    stdin: Option<Result<String, Refusal>>,
}

impl<'a> Loader<'a> {
    fn new(opts: &'a LoadOptions) -> Result<Self, CliError> {
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        let given_dir = absolute(&cwd, &opts.project_dir);
        // compose: without --project-dir, the project directory is the first -f file's
        // directory. Commands pass an empty path when the flag is absent.
        let project_dir = match opts.files.first() {
            // Standard input and process substitution (`-f <(…)` is /dev/fd/63) have no
            // project directory of their own: the working directory is it, as for `-f -`.
            Some(first)
                if opts.project_dir.as_os_str().is_empty()
                    && !is_stdin(first)
                    && !is_special_file(&absolute(&cwd, first)) =>
            {
                absolute(&cwd, first)
                    .parent()
                    .map_or_else(|| given_dir.clone(), Path::to_path_buf)
            }
            _ => given_dir,
        };
        Ok(Loader {
            opts,
            cwd,
            project_dir,
            env: BTreeMap::new(),
            files: Vec::new(),
            dep: Deployment::default(),
            extends_cache: BTreeMap::new(),
            unparsed: 0,
            stdin: None,
        })
    }

    fn run(mut self) -> Result<Deployment, CliError> {
        self.read_dotenv()?;
        let paths = self.compose_paths()?;
        self.follow_found_files(&paths)?;
        // Each file is read exactly once, before anything needs its text: a pipe or FIFO
        // (`-f <(…)`, `-f -`) has no second reading.
        let mut indices = Vec::with_capacity(paths.len());
        for path in &paths {
            indices.push(self.read_source(path, self.project_dir.clone())?);
        }
        if !self.env.contains_key("COMPOSE_PROJECT_NAME") {
            // compose-go gives interpolation the project name as COMPOSE_PROJECT_NAME
            // (`${COMPOSE_PROJECT_NAME}` in volume or container names is common).
            let name = indices
                .first()
                .and_then(|&i| top_level_name(&self.files[i].text))
                .unwrap_or_else(|| {
                    self.project_dir
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default()
                });
            self.env.insert(
                "COMPOSE_PROJECT_NAME".to_string(),
                normalize_project_name(&name),
            );
        }
        let mut root: Option<Node> = None;
        for (path, index) in paths.iter().zip(indices) {
            self.dep
                .compose_files
                .push(self.files[index].display.clone());
            let mut includes = vec![path.clone()];
            for doc in self.load_documents(index, &mut includes)? {
                root = Some(match root {
                    None => merge::strip_resets(doc),
                    Some(base) => {
                        merge::merge(base, doc, &mut Vec::new()).unwrap_or_else(|| empty_map(index))
                    }
                });
            }
        }
        let root = match root {
            Some(r) => r,
            None if self.unparsed > 0 => empty_map(0),
            None => {
                // compose refuses an empty file ("empty compose file"); the files are readable,
                // so this is reported by `config.compose-syntax`, not a stop.
                self.dep.structure.push(StructureProblem {
                    message: "the compose file is empty: compose refuses it (empty compose file)"
                        .into(),
                    span: self
                        .files
                        .first()
                        .map(|f| Span::new(f.display.clone(), 1, 1)),
                });
                empty_map(0)
            }
        };
        self.build(&root)?;
        // Every variable the files refer to is a name the user must be able to read.
        let names: Vec<String> = self
            .dep
            .interpolation
            .iter()
            .map(|f| f.variable.clone())
            .collect();
        for name in names {
            self.dep.secrets.add_name(&name);
        }
        self.dep.project_dir = self.project_dir.clone();
        Ok(self.dep)
    }

    /// The project `.env` (or `--env-file`), parsed with compose's rules; its variables are
    /// looked up after the process environment.
    fn read_dotenv(&mut self) -> Result<(), CliError> {
        let path = match &self.opts.env_file {
            Some(p) => {
                let p = absolute(&self.cwd, p);
                // Not `is_file`: `--env-file <(…)` is a pipe.
                if !p.exists() || p.is_dir() {
                    return Err(CliError::input(
                        self.display(&p),
                        "--env-file: no such file (compose refuses to start)",
                    ));
                }
                p
            }
            None => {
                let p = self.project_dir.join(".env");
                if !p.is_file() {
                    self.env = self.opts.process_env.clone();
                    return Ok(());
                }
                p
            }
        };
        let display = self.display(&path);
        let process = &self.opts.process_env;
        let lookup = |name: &str| process.get(name).cloned();
        let file = read_env(&mut self.dep, &path, &display, &lookup)?;
        let mut env = file.to_map();
        env.extend(process.iter().map(|(k, v)| (k.clone(), v.clone())));
        self.env = env;
        self.dep.dotenv = Some(file);
        Ok(())
    }

    /// Without --project-dir, the project directory is the first compose file's directory
    /// (compose-go `GetWorkingDir`), also when that file came from COMPOSE_FILE or was found
    /// in a parent; compose then reads that directory's `.env` too (docker/compose
    /// `toProjectOptions` applies `WithEnvFiles` + `WithDotEnv` again after discovery), its
    /// values over the first one's, the process environment still winning.
    fn follow_found_files(&mut self, paths: &[PathBuf]) -> Result<(), CliError> {
        if !self.opts.project_dir.as_os_str().is_empty() || !self.opts.files.is_empty() {
            return Ok(());
        }
        let Some(dir) = paths.first().and_then(|p| p.parent()) else {
            return Ok(());
        };
        if dir == self.project_dir {
            return Ok(());
        }
        self.project_dir = dir.to_path_buf();
        if self.opts.env_file.is_some() {
            return Ok(());
        }
        let first_env = std::mem::take(&mut self.env);
        self.read_dotenv()?;
        let mut env = first_env;
        env.extend(std::mem::take(&mut self.env));
        self.env = env;
        Ok(())
    }

    /// `-f` files, else COMPOSE_FILE, else discovery.
    fn compose_paths(&mut self) -> Result<Vec<PathBuf>, CliError> {
        if !self.opts.files.is_empty() {
            return Ok(self
                .opts
                .files
                .iter()
                .map(|f| {
                    if is_stdin(f) {
                        f.clone()
                    } else {
                        absolute(&self.cwd, f)
                    }
                })
                .collect());
        }
        if let Some(list) = self.env.get("COMPOSE_FILE").filter(|v| !v.is_empty()) {
            let sep = self
                .env
                .get("COMPOSE_PATH_SEPARATOR")
                .filter(|s| !s.is_empty())
                .cloned()
                .unwrap_or_else(|| ":".to_string());
            // compose-go `cli.WithConfigFileEnv`: relative entries are made absolute against
            // the working directory (`filepath.Abs`), not the project directory.
            let files: Vec<PathBuf> = list
                .split(sep.as_str())
                .filter(|s| !s.is_empty())
                .map(|f| absolute(&self.cwd, Path::new(f)))
                .collect();
            if !files.is_empty() {
                return Ok(files);
            }
        }
        // compose looks in the working directory, then each parent.
        let mut dir = Some(self.project_dir.as_path());
        while let Some(d) = dir {
            if let Some(main) = DEFAULT_FILE_NAMES
                .iter()
                .map(|n| d.join(n))
                .find(|p| p.is_file())
            {
                let mut found = vec![main];
                if let Some(o) = DEFAULT_OVERRIDE_FILE_NAMES
                    .iter()
                    .map(|n| d.join(n))
                    .find(|p| p.is_file())
                {
                    found.push(o);
                }
                return Ok(found);
            }
            dir = d.parent();
        }
        Err(CliError::input(
            self.display(&self.project_dir),
            format!(
                "no compose file found (looked for {} in this directory and its parents; give one with -f)",
                DEFAULT_FILE_NAMES.join(", ")
            ),
        ))
    }

    /// The path as shown to the user: relative to the repository root, else the current
    /// directory (DESIGN.md; see [`crate::report::paths::shown`]).
    fn display(&self, path: &Path) -> String {
        crate::report::paths::shown(path, &self.cwd, &self.project_dir)
    }

    /// Reads a compose file once (size-limited, UTF-8) into the file table. A file that cannot
    /// be opened stops the run; content that is not UTF-8 text under the size limit is a
    /// `config.compose-syntax` finding and the file counts as empty.
    fn read_source(&mut self, path: &Path, base_dir: PathBuf) -> Result<usize, CliError> {
        let display = if is_stdin(path) {
            STDIN_PATH.to_string()
        } else {
            self.display(path)
        };
        let content = match (&self.stdin, is_stdin(path)) {
            (Some(read), true) => read.clone(),
            _ => read_text(path, &display)?,
        };
        let (text, refused) = match content {
            Ok(text) => (text, false),
            Err((line, column, message)) => {
                self.syntax_problem(&display, line, column, message);
                (String::new(), true)
            }
        };
        self.dep.ignores.extend(scan_ignores(&display, &text));
        self.files.push(SourceFile {
            display,
            path: path.to_path_buf(),
            base_dir,
            text,
            refused,
        });
        Ok(self.files.len() - 1)
    }

    /// A file (or document) compose refuses to parse: a finding at its place, not a stop.
    fn syntax_problem(&mut self, display: &str, line: u32, column: u32, message: String) {
        self.unparsed += 1;
        self.dep.structure.push(StructureProblem {
            message: format!("{message}{REFUSED_SUFFIX}"),
            span: Some(Span::new(display, line, column)),
        });
    }

    /// Parses a file of the table into its documents, each checked, stamped and interpolated.
    fn parse_source(&mut self, index: usize) -> Result<Vec<Node>, CliError> {
        let display = self.files[index].display.clone();
        if self.files[index].refused {
            return Ok(Vec::new());
        }
        let docs = match yaml::parse_documents(&self.files[index].text) {
            Ok(docs) => docs,
            Err(e) => {
                self.syntax_problem(
                    &display,
                    e.line.unwrap_or(1),
                    e.column.unwrap_or(1),
                    format!("invalid YAML: {}", e.message),
                );
                return Ok(Vec::new());
            }
        };
        let mut out = Vec::with_capacity(docs.len());
        let id = u32::try_from(index).unwrap_or(u32::MAX);
        for mut doc in docs {
            doc.set_file(id);
            if doc.as_map().is_none() {
                let message = format!(
                    "the top level of a compose file must be a mapping (services:, networks:, …), found {}",
                    doc.kind_name()
                );
                self.syntax_problem(&display, doc.line, doc.column, message);
                continue;
            }
            if let Some(services) = doc.get("services")
                && !services.is_null()
                && services.as_map().is_none()
            {
                let message = format!(
                    "`services` must be a mapping of service names, found {}",
                    services.kind_name()
                );
                let (line, column) = (services.line, services.column);
                self.syntax_problem(&display, line, column, message);
                continue;
            }
            let mut path = Vec::new();
            self.interpolate(&mut doc, &mut path);
            out.push(doc);
        }
        Ok(out)
    }

    /// Interpolates every string value (not keys) of a document, recording problems.
    fn interpolate(&mut self, node: &mut Node, path: &mut Vec<String>) {
        match &mut node.value {
            Value::Str { value, raw } => {
                if !value.contains('$') {
                    return;
                }
                let template = value.clone();
                let env = &self.env;
                let lookup = |name: &str| env.get(name).cloned();
                let span = Some(self.span(node.file, node.line, node.column));
                let service = match path.as_slice() {
                    [first, name, ..] if first == "services" => Some(name.clone()),
                    _ => None,
                };
                let mut findings = Vec::new();
                let (new_value, changed) = match interpolate::interpolate(&template, &lookup) {
                    Ok(done) => {
                        for variable in done.unset {
                            findings.push((variable, InterpolationProblem::Unset));
                        }
                        (done.value, true)
                    }
                    // Compose refuses to start here; keep the text as written so the value
                    // keeps its shape (`KEY=${X:?msg}` stays a KEY) and only this is reported.
                    Err(InterpolationError::Required { variable, message }) => {
                        // compose stops here; the model keeps the text as written so the rest
                        // of the value (an env name, a port) is still there.
                        findings.push((variable, InterpolationProblem::Required(message)));
                        (template.clone(), false)
                    }
                    Err(InterpolationError::Invalid { message, .. }) => {
                        findings.push((template.clone(), InterpolationProblem::Invalid(message)));
                        (template.clone(), false)
                    }
                };
                if changed && new_value != template {
                    *raw = Some(template);
                    *value = new_value;
                }
                for (variable, kind) in findings {
                    let finding = InterpolationFinding {
                        variable,
                        kind,
                        span: span.clone(),
                        service: service.clone(),
                    };
                    if !self.dep.interpolation.contains(&finding) {
                        self.dep.interpolation.push(finding);
                    }
                }
            }
            Value::Seq(items) => {
                for item in items {
                    path.push(String::new());
                    self.interpolate(item, path);
                    path.pop();
                }
            }
            Value::Map(entries) => {
                for (k, v) in entries {
                    path.push(k.scalar_string().unwrap_or_default());
                    self.interpolate(v, path);
                    path.pop();
                }
            }
            _ => {}
        }
    }

    pub(crate) fn span(&self, file: u32, line: u32, column: u32) -> Span {
        let display = self
            .files
            .get(file as usize)
            .map_or_else(String::new, |f| f.display.clone());
        Span::new(display, line, column)
    }

    pub(crate) fn node_span(&self, node: &Node) -> Span {
        self.span(node.file, node.line, node.column)
    }

    /// Records a value of the wrong shape, unless the value came from a variable that is
    /// unset or required: that finding already explains it (`${PORT}:${PORT}` is `:`).
    fn problem(&mut self, node: &Node, message: impl Into<String>) {
        let span = Some(self.node_span(node));
        let explained = self
            .dep
            .interpolation
            .iter()
            .any(|f| f.span == span && !matches!(f.kind, InterpolationProblem::Invalid(_)));
        if explained {
            return;
        }
        self.dep.structure.push(StructureProblem {
            message: message.into(),
            span,
        });
    }

    /// The documents of a file with their `include`s and `extends` applied, ready to merge.
    fn load_documents(
        &mut self,
        index: usize,
        includes: &mut Vec<PathBuf>,
    ) -> Result<Vec<Node>, CliError> {
        let mut out = Vec::new();
        for doc in self.parse_source(index)? {
            let doc = self.apply_includes(doc, index, includes)?;
            out.push(self.apply_extends(doc, index));
        }
        Ok(out)
    }

    /// `include:` (compose 2.20+): each included file is loaded as its own small project
    /// (relative paths from its own directory, or `project_directory`) and the including
    /// file is merged over what it brings. Missing files and cycles are structure problems.
    fn apply_includes(
        &mut self,
        doc: Node,
        index: usize,
        includes: &mut Vec<PathBuf>,
    ) -> Result<Node, CliError> {
        let Some(list) = doc.get("include").cloned() else {
            return Ok(doc);
        };
        let doc = without_key(doc, "include");
        let items: Vec<Node> = match &list.value {
            Value::Seq(items) => items.clone(),
            Value::Null => Vec::new(),
            _ => {
                self.problem(
                    &list,
                    format!("`include` must be a list, found {}", list.kind_name()),
                );
                return Ok(doc);
            }
        };
        let from_dir = self.files[index]
            .path
            .parent()
            .map_or_else(|| self.project_dir.clone(), Path::to_path_buf);
        let mut included: Option<Node> = None;
        for item in &items {
            let (paths, project_directory) = match &item.value {
                Value::Str { value, .. } => (vec![(value.clone(), item.clone())], None),
                Value::Map(_) => {
                    let paths = match item.get("path") {
                        Some(p) => match &p.value {
                            Value::Seq(ps) => ps
                                .iter()
                                .filter_map(|n| n.scalar_string().map(|s| (s, n.clone())))
                                .collect(),
                            _ => p
                                .scalar_string()
                                .map(|s| (s, p.clone()))
                                .into_iter()
                                .collect(),
                        },
                        None => Vec::new(),
                    };
                    let dir = item
                        .get("project_directory")
                        .and_then(Node::scalar_string)
                        .map(|d| absolute(&from_dir, Path::new(&d)));
                    (paths, dir)
                }
                _ => (Vec::new(), None),
            };
            if paths.is_empty() {
                self.problem(item, "`include` entry without a path");
                continue;
            }
            for (rel, node) in paths {
                let path = absolute(&from_dir, Path::new(&rel));
                if includes.contains(&path) {
                    self.problem(&node, format!("include cycle: `{rel}` includes itself"));
                    continue;
                }
                if !path.is_file() {
                    self.problem(
                        &node,
                        format!("include: file `{rel}` not found (compose refuses to start)"),
                    );
                    continue;
                }
                let base_dir = project_directory.clone().unwrap_or_else(|| {
                    path.parent()
                        .map_or_else(|| from_dir.clone(), Path::to_path_buf)
                });
                let i = self.read_source(&path, base_dir)?;
                includes.push(path);
                let docs = self.load_documents(i, includes);
                includes.pop();
                for d in docs? {
                    included = Some(match included {
                        None => merge::strip_resets(d),
                        Some(base) => {
                            merge::merge(base, d, &mut Vec::new()).unwrap_or_else(|| empty_map(i))
                        }
                    });
                }
            }
        }
        Ok(match included {
            None => doc,
            Some(base) => merge::merge(base, doc.clone(), &mut Vec::new()).unwrap_or(doc),
        })
    }

    /// Applies `extends` to every service of a document (compose-go does it per file, before
    /// merging the file onto the previous ones).
    fn apply_extends(&mut self, mut doc: Node, file: usize) -> Node {
        let Some(names) = doc.get("services").and_then(Node::as_map).map(|m| {
            m.iter()
                .filter(|(_, v)| v.get("extends").is_some())
                .filter_map(|(k, _)| k.scalar_string())
                .collect::<Vec<_>>()
        }) else {
            return doc;
        };
        if names.is_empty() {
            return doc;
        }
        let snapshot = doc.clone();
        let mut resolved = Vec::new();
        for name in names {
            let mut stack = Vec::new();
            if let Some(svc) = self.resolve_service(&snapshot, file, &name, &mut stack) {
                resolved.push((name, svc));
            }
        }
        if let Value::Map(entries) = &mut doc.value
            && let Some((_, services)) = entries
                .iter_mut()
                .find(|(k, _)| k.as_str() == Some("services"))
            && let Value::Map(svcs) = &mut services.value
        {
            for (name, svc) in resolved {
                if let Some(slot) = svcs
                    .iter_mut()
                    .find(|(k, _)| k.scalar_string().as_deref() == Some(name.as_str()))
                {
                    slot.1 = svc;
                }
            }
        }
        doc
    }

    /// The service `name` of `doc` with its `extends` chain applied; None when it does not
    /// exist. `stack` detects cycles.
    fn resolve_service(
        &mut self,
        doc: &Node,
        file: usize,
        name: &str,
        stack: &mut Vec<(usize, String)>,
    ) -> Option<Node> {
        let svc = doc.get("services")?.get(name)?.clone();
        let Some(ext) = svc.get("extends").cloned() else {
            return Some(svc);
        };
        if stack.iter().any(|(f, n)| *f == file && n == name) || stack.len() > 32 {
            self.problem(&ext, format!("extends: cycle through service `{name}`"));
            return Some(without_key(svc, "extends"));
        }
        stack.push((file, name.to_string()));
        let (base_name, base_file) = match &ext.value {
            Value::Str { value, .. } => (value.clone(), None),
            Value::Map(_) => {
                let Some(service) = ext.get("service").and_then(Node::scalar_string) else {
                    self.problem(&ext, "extends: `service` is missing");
                    stack.pop();
                    return Some(without_key(svc, "extends"));
                };
                (service, ext.get("file").and_then(Node::scalar_string))
            }
            _ => {
                self.problem(
                    &ext,
                    format!(
                        "extends must be a service name or a mapping, found {}",
                        ext.kind_name()
                    ),
                );
                stack.pop();
                return Some(without_key(svc, "extends"));
            }
        };
        let base = match base_file {
            None => {
                if doc
                    .get("services")
                    .and_then(|s| s.get(&base_name))
                    .is_none()
                {
                    self.problem(
                        &ext,
                        format!("extends: service `{base_name}` not found in this file (compose refuses it)"),
                    );
                    None
                } else {
                    self.resolve_service(doc, file, &base_name, stack)
                }
            }
            Some(rel) => self.extends_from_file(&ext, file, &rel, &base_name, stack),
        };
        stack.pop();
        let svc = without_key(svc, "extends");
        let Some(base) = base else {
            return Some(svc);
        };
        let base = without_key(base, "extends");
        let mut path = vec!["services".to_string(), name.to_string()];
        merge::merge(base, svc.clone(), &mut path).or(Some(svc))
    }

    fn extends_from_file(
        &mut self,
        ext: &Node,
        file: usize,
        rel: &str,
        base_name: &str,
        stack: &mut Vec<(usize, String)>,
    ) -> Option<Node> {
        // `extends.file` is relative to the file that says it.
        let from_dir = self.files[file]
            .path
            .parent()
            .map_or_else(|| self.project_dir.clone(), Path::to_path_buf);
        let path = absolute(&from_dir, Path::new(rel));
        if !self.extends_cache.contains_key(&path) {
            let loaded = if path.is_file() {
                let base_dir = path
                    .parent()
                    .map_or_else(|| from_dir.clone(), Path::to_path_buf);
                let parsed = match self.read_source(&path, base_dir) {
                    Ok(i) => self.parse_source(i),
                    Err(e) => Err(e),
                };
                match parsed {
                    Ok(docs) => docs.into_iter().next(),
                    Err(e) => {
                        self.problem(ext, format!("extends: cannot read `{rel}`: {e}"));
                        None
                    }
                }
            } else {
                self.problem(
                    ext,
                    format!("extends: file `{rel}` not found (compose refuses to start)"),
                );
                None
            };
            self.extends_cache.insert(path.clone(), loaded);
        }
        let other = self.extends_cache.get(&path).cloned().flatten()?;
        let other_index = other.file as usize;
        if other
            .get("services")
            .and_then(|s| s.get(base_name))
            .is_none()
        {
            self.problem(
                ext,
                format!("extends: service `{base_name}` not found in `{rel}`"),
            );
            return None;
        }
        self.resolve_service(&other, other_index, base_name, stack)
    }

    /// Builds the model from the merged tree.
    fn build(&mut self, root: &Node) -> Result<(), CliError> {
        // Project name: COMPOSE_PROJECT_NAME, then `name:`, then the directory (compose's
        // precedence after -p), normalized as compose-go's NormalizeProjectName.
        let from_file = root.get("name").and_then(Node::scalar_string);
        let name = self
            .env
            .get("COMPOSE_PROJECT_NAME")
            .filter(|n| !n.is_empty())
            .cloned()
            .or(from_file)
            .unwrap_or_else(|| {
                self.project_dir
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default()
            });
        self.dep.project_name = normalize_project_name(&name);

        if let Some(networks) = root.get("networks") {
            self.build_networks(networks);
        }
        if let Some(services) = root.get("services").and_then(Node::as_map) {
            let mut env_file_cache = BTreeMap::new();
            self.dep.active_profiles = active_profiles(self.env.get("COMPOSE_PROFILES"));
            for (key, svc) in services {
                let name = key.scalar_string().unwrap_or_default();
                let service = service::build(self, &name, key, svc, &mut env_file_cache)?;
                if has_active_profile(&service.profiles, &self.dep.active_profiles) {
                    self.dep.services.push(service);
                } else {
                    self.dep.inactive_services.push(service);
                }
            }
            // A missing env_file of a service compose does not start is not read by compose.
            let inactive = &self.dep.inactive_services;
            self.dep
                .missing_env_files
                .retain(|m| !inactive.iter().any(|s| s.name == m.service));
            let mut seen = BTreeSet::new();
            for (display, file) in env_file_cache.into_values().flatten() {
                if seen.insert(display) {
                    self.dep.env_files.push(file);
                }
            }
        }
        Ok(())
    }

    fn build_networks(&mut self, networks: &Node) {
        let Some(entries) = networks.as_map() else {
            if !networks.is_null() {
                self.problem(
                    networks,
                    format!(
                        "top-level `networks` must be a mapping, found {}",
                        networks.kind_name()
                    ),
                );
            }
            return;
        };
        for (key, value) in entries {
            let external = value.get("external");
            let (is_external, legacy_name) = match external {
                Some(e) if e.as_map().is_some() => {
                    (true, e.get("name").and_then(Node::scalar_string))
                }
                Some(e) => (e.as_bool().unwrap_or(false), None),
                None => (false, None),
            };
            self.dep.networks.push(Network {
                key: key.scalar_string().unwrap_or_default(),
                external: is_external,
                name: value
                    .get("name")
                    .and_then(Node::scalar_string)
                    .or(legacy_name),
                span: Some(self.node_span(key)),
            });
        }
    }

    pub(crate) fn lookup(&self, name: &str) -> Option<String> {
        self.env.get(name).cloned()
    }

    pub(crate) fn file_base_dir(&self, file: u32) -> PathBuf {
        self.files
            .get(file as usize)
            .map_or_else(|| self.project_dir.clone(), |f| f.base_dir.clone())
    }

    pub(crate) fn file_text_line(&self, file: u32, line: u32) -> Option<&str> {
        self.files
            .get(file as usize)?
            .text
            .lines()
            .nth(line.checked_sub(1)? as usize)
    }

    pub(crate) fn deployment(&mut self) -> &mut Deployment {
        &mut self.dep
    }

    pub(crate) fn display_path(&self, path: &Path) -> String {
        self.display(path)
    }

    pub(crate) fn read_env_file(
        &mut self,
        path: &Path,
        display: &str,
    ) -> Result<EnvFile, CliError> {
        let env = &self.env;
        let lookup = |name: &str| env.get(name).cloned();
        read_env(&mut self.dep, path, display, &lookup)
    }

    pub(crate) fn structure_problem(&mut self, node: &Node, message: impl Into<String>) {
        self.problem(node, message);
    }
}

/// Reads an env file once: its inline ignores, its secrets (also those of lines that do not
/// parse, read from the text), its entries.
fn read_env(
    dep: &mut Deployment,
    path: &Path,
    display: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<EnvFile, CliError> {
    let file = match dotenv::read_text(path, display)? {
        dotenv::EnvText::Text(text) => {
            dep.ignores.extend(scan_ignores(display, &text));
            dep.secrets.add_env_text(&text);
            dotenv::parse(display, &text, lookup)
        }
        dotenv::EnvText::Refused(error) => dotenv::refused_file(display, error),
    };
    register_env_secrets(dep, &file);
    Ok(file)
}

/// The active profiles from COMPOSE_PROFILES (the CLI puts `--profile` there, as the flag
/// replaces the variable in compose): comma-separated, trimmed, empty items dropped
/// (compose-go `cli.WithDefaultProfiles`).
fn active_profiles(value: Option<&String>) -> Vec<String> {
    value
        .map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// compose-go `ServiceConfig.HasProfile`: a service without profiles always runs; else one
/// of its profiles must be active, or `*` is.
fn has_active_profile(service_profiles: &[String], active: &[String]) -> bool {
    service_profiles.is_empty()
        || active
            .iter()
            .any(|a| a == "*" || service_profiles.contains(a))
}

fn register_env_secrets(dep: &mut Deployment, file: &EnvFile) {
    for f in &file.interpolation {
        dep.secrets.add_name(&f.variable);
    }
    for e in &file.entries {
        dep.secrets.add_name(&e.key);
        if let Some(v) = &e.value {
            if crate::redact::is_secret_key(&e.key) {
                dep.secrets.add(v);
            }
            dep.secrets.add_url_passwords(v);
        }
    }
}

fn empty_map(file: usize) -> Node {
    Node::new(
        Value::Map(Vec::new()),
        1,
        1,
        u32::try_from(file).unwrap_or(u32::MAX),
    )
}

fn without_key(mut node: Node, key: &str) -> Node {
    if let Value::Map(entries) = &mut node.value {
        entries.retain(|(k, _)| k.as_str() != Some(key));
    }
    node
}

/// Why a readable file's content is refused: line, column, message.
pub type Refusal = (u32, u32, String);

/// Reads standard input once, as [`read_text`] reads `-`.
pub fn read_stdin() -> Result<Result<String, Refusal>, CliError> {
    read_text(Path::new(STDIN_PATH), STDIN_PATH)
}

/// Reads a file (or standard input for `-` ) exactly once as UTF-8 text, at most
/// [`MAX_FILE_BYTES`]. `Err` (exit 2): the file cannot be opened; `Ok(Err)`: its content is
/// refused (too large, not UTF-8), a finding.
fn read_text(path: &Path, display: &str) -> Result<Result<String, Refusal>, CliError> {
    use std::io::Read;
    let cannot_read =
        |e: &std::io::Error| CliError::input(display, format!("cannot read: {}", io_reason(e)));
    let mut bytes = Vec::new();
    if is_stdin(path) {
        std::io::stdin()
            .lock()
            .take(MAX_FILE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| cannot_read(&e))?;
    } else {
        let file = std::fs::File::open(path).map_err(|e| cannot_read(&e))?;
        let meta = file.metadata().map_err(|e| cannot_read(&e))?;
        if meta.is_dir() {
            return Err(CliError::input(
                display,
                "is a directory, not a compose file",
            ));
        }
        if meta.len() > MAX_FILE_BYTES {
            return Ok(Err(too_large(format!(
                "{:.1} MiB",
                meta.len() as f64 / (1024.0 * 1024.0)
            ))));
        }
        // Read at most one byte over the limit: a device or pipe (`-f /dev/zero`, `-f <(…)`)
        // reports size 0 and would otherwise be read until memory runs out.
        file.take(MAX_FILE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| cannot_read(&e))?;
    }
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Ok(Err(too_large(format!(
            "more than {} MiB",
            MAX_FILE_BYTES / (1024 * 1024)
        ))));
    }
    Ok(match String::from_utf8(bytes) {
        Ok(mut text) => {
            if text.starts_with('\u{feff}') {
                text.drain(..'\u{feff}'.len_utf8());
            }
            Ok(text)
        }
        Err(e) => {
            let bytes = e.as_bytes();
            let valid = e.utf8_error().valid_up_to();
            let before = &bytes[..valid];
            let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
            let line_start = before
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |i| i + 1);
            let column = String::from_utf8_lossy(&before[line_start..])
                .chars()
                .count()
                + 1;
            Err((
                u32::try_from(line).unwrap_or(u32::MAX),
                u32::try_from(column).unwrap_or(u32::MAX),
                "not valid UTF-8 (compose files must be UTF-8 text)".to_string(),
            ))
        }
    })
}

fn too_large(size: String) -> Refusal {
    (
        1,
        1,
        format!(
            "file too large ({size}; compose files over {} MiB are refused: real ones are well under 1 MiB)",
            MAX_FILE_BYTES / (1024 * 1024)
        ),
    )
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

/// `base.join(p)` with `.` and `..` removed lexically (no symlink resolution, so paths
/// shown to the user stay the ones they typed).
pub(crate) fn absolute(base: &Path, p: &Path) -> PathBuf {
    let joined = if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    };
    let mut out = PathBuf::new();
    for c in joined.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// A literal top-level `name:` of a compose file (None when absent or interpolated), read
/// from the file's text before it is parsed because interpolation needs it.
fn top_level_name(text: &str) -> Option<String> {
    let line = text.lines().find(|l| l.starts_with("name:"))?;
    let value = line["name:".len()..].split(" #").next()?.trim();
    let value = value.trim_matches(|c| c == '"' || c == '\'');
    (!value.is_empty() && !value.contains('$')).then(|| value.to_string())
}

/// compose-go `NormalizeProjectName`: lowercase, keep `[a-z0-9_-]`, no leading `_`/`-`.
pub fn normalize_project_name(name: &str) -> String {
    let lower = name.to_lowercase();
    let kept: String = lower
        .chars()
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_' || *c == '-')
        .collect();
    kept.trim_start_matches(['_', '-']).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_names_are_normalized_like_compose() {
        assert_eq!(normalize_project_name("My App.v2"), "myappv2");
        assert_eq!(normalize_project_name("_-x_y-z"), "x_y-z");
    }

    #[test]
    fn absolute_paths_are_cleaned() {
        assert_eq!(
            absolute(Path::new("/a/b"), Path::new("../c/./d.yml")),
            PathBuf::from("/a/c/d.yml")
        );
    }
}
