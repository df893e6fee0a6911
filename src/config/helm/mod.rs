//! The official Open WebUI Helm chart as a deployment source: `--helm-values FILE`
//! (repeatable) read the way `helm template -f a -f b` would, into the Kubernetes objects the
//! chart renders ([`Manifests`]), every value spanned in the file that set it.
//!
//! Understood: chart **16.x** (templates of 16.0.0, appVersion 0.11.0; `defaults.rs`).
//! Values written for another major version are still rendered with 16.0.0's templates, and
//! `kube.helm-chart-version` says so where an input names its version.
//!
//! Spans: a value the user wrote points at their file and line. A chart default points at
//! `open-webui-16.0.0.tgz/values.yaml:LINE` (the line of the chart's values.yaml that sets
//! it); text the templates write themselves points at
//! `open-webui-16.0.0.tgz/templates/FILE:LINE`. These are the paths inside the chart package
//! `helm pull open-webui/open-webui --version 16.0.0` downloads.
//!
//! Release: a plain values file does not say where it is installed; the release is then
//! `open-webui` in namespace `default` (the chart README's `helm install open-webui
//! open-webui/open-webui`), and a HelmRelease or Application gives its own.

pub mod defaults;
pub mod merge;
pub mod render;
pub mod source;

use std::path::{Path, PathBuf};

use crate::config::kube::Manifests;
use crate::config::model::{Span, StructureProblem};
use crate::config::yaml::{self, Node, Value};
use crate::error::CliError;
use crate::redact::{Secrets, is_secret_key};
use crate::report::InlineIgnore;

use render::FileTable;
pub use render::Release;

/// Values files above this size are refused before parsing (the chart's own values.yaml is
/// 30 KiB).
pub const MAX_FILE_BYTES: u64 = 8 * 1024 * 1024;

/// The release a plain values file is assumed to be installed as.
pub const DEFAULT_RELEASE: &str = "open-webui";
pub const DEFAULT_NAMESPACE: &str = "default";

/// A statement about one input, at its place (a chart version, a value not read).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Noted {
    pub message: String,
    pub span: Option<Span>,
}

/// What one `--helm-values` file contributed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelmInput {
    pub file: String,
    /// How its values were found ("values file", "Flux HelmRelease spec.values", …).
    pub read_as: Vec<String>,
    /// The chart version it pins, with where.
    pub chart_version: Option<(String, Span)>,
    /// Values it refers to that are elsewhere, or why its values are not this chart's.
    pub unread: Vec<Noted>,
    /// Top-level keys of an older chart that 16.x ignores (`redis-cluster`).
    pub removed_keys: Vec<Noted>,
    /// The input is for another chart (app-template, …): nothing of it is rendered.
    pub other_chart: bool,
}

/// What the Helm reader gives the `kube.helm-*` checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelmFacts {
    pub inputs: Vec<HelmInput>,
    pub release: Release,
    /// Where the release came from ("HelmRelease metadata.name", or the assumption).
    pub release_from: String,
    /// `kind name` of each object rendered, in order.
    pub rendered: Vec<String>,
    /// The chart would refuse to render (a `fail` in a template), at the value that makes it.
    pub render_failure: Option<Noted>,
    /// Inputs that do not parse (each a `kube.manifest-syntax` finding): the chart is then not
    /// rendered, since the values it would get are unknown.
    pub unparsed: Vec<String>,
}

/// Everything read from the `--helm-values` files.
#[derive(Debug, Clone, Default)]
pub struct HelmDeployment {
    pub manifests: Manifests,
    pub facts: Option<HelmFacts>,
    /// Files that do not parse (YAML errors, not UTF-8, too large): findings.
    pub problems: Vec<StructureProblem>,
    pub secrets: Secrets,
    pub ignores: Vec<InlineIgnore>,
}

/// Reads the values files in order and renders the chart. Errors (exit 2): a file given that
/// does not exist or cannot be opened. A file that does not parse is a finding. A path `-` is
/// standard input, already read into `stdin` (no Chart.yaml or values.yaml is looked for
/// beside it).
pub fn read(
    paths: &[PathBuf],
    stdin: Option<&Result<String, crate::config::compose::Refusal>>,
    cwd: &Path,
    project_dir: &Path,
) -> Result<HelmDeployment, CliError> {
    let mut out = HelmDeployment::default();
    let mut table = FileTable::default();
    let mut inputs = Vec::new();
    let mut user: Option<Node> = None;
    let mut release_name: Option<String> = None;
    let mut namespace: Option<String> = None;
    let mut release_from = format!(
        "no HelmRelease or Application among the inputs: assumed release '{DEFAULT_RELEASE}' in namespace '{DEFAULT_NAMESPACE}'"
    );
    // The user's files come first in the table, in command-line order.
    let shown: Vec<String> = paths
        .iter()
        .map(|p| {
            if is_stdin(p) {
                STDIN.to_string()
            } else {
                crate::report::paths::shown(p, cwd, project_dir)
            }
        })
        .collect();
    for name in &shown {
        table.index(name);
    }
    for (position, (path, display)) in paths.iter().zip(&shown).enumerate() {
        let file = table.index(display);
        let mut input = HelmInput {
            file: display.clone(),
            read_as: Vec::new(),
            chart_version: None,
            unread: Vec::new(),
            removed_keys: Vec::new(),
            other_chart: false,
        };
        let from_stdin = is_stdin(path);
        let read = if from_stdin {
            match stdin {
                Some(Ok(text)) => Ok(text.clone()),
                Some(Err((line, column, message))) => Err((*line, *column, message.clone())),
                None => Err((1, 1, "standard input was not read".to_string())),
            }
        } else {
            read_text(path, display)?.map_err(|message| (1, 1, message))
        };
        let text = match read {
            Ok(text) => text,
            Err((line, column, message)) => {
                out.problems.push(problem(display, line, column, message));
                inputs.push(input);
                continue;
            }
        };
        out.ignores
            .extend(crate::config::scan_ignores(display, &text));
        let docs = match yaml::parse_documents(&text) {
            Ok(docs) => docs,
            Err(e) => {
                out.problems.push(problem(
                    display,
                    e.line.unwrap_or(1),
                    e.column.unwrap_or(1),
                    format!("invalid YAML: {}", e.message),
                ));
                inputs.push(input);
                continue;
            }
        };
        let docs: Vec<Node> = docs
            .into_iter()
            .map(|mut d| {
                d.set_file(file);
                d
            })
            .collect();
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        // Files read beside the input (Chart.yaml, values.yaml) join the file table.
        let mut sibling = |p: &Path| -> Option<Vec<Node>> {
            if from_stdin || !p.is_file() {
                return None;
            }
            let shown = crate::report::paths::shown(p, cwd, project_dir);
            let text = read_text(p, &shown).ok()?.ok()?;
            let mut docs = yaml::parse_documents(&text).ok()?;
            let index = table.index(&shown);
            docs.iter_mut().for_each(|d| d.set_file(index));
            Some(docs)
        };
        let layers = source::layers(&docs, &text, file, &dir, &mut sibling);
        for layer in layers {
            input.read_as.push(layer.read_as.clone());
            input.other_chart |= layer.other_chart;
            for (message, node) in &layer.unread {
                input.unread.push(Noted {
                    message: message.clone(),
                    span: Some(span_of(&table.files, node)),
                });
            }
            // A valueFiles entry is resolved when a file of that name was given before this
            // one (`$values/k8s/open-webui/values.yaml` and `--helm-values
            // k8s/open-webui/values.yaml … application.yaml`): Argo CD merges it first too.
            for (reference, node) in &layer.value_files {
                let name = reference.rsplit('/').next().unwrap_or_default();
                let given = paths[..position]
                    .iter()
                    .find(|p| p.file_name().is_some_and(|f| f == name));
                match given {
                    Some(p) => input.read_as.push(format!(
                        "helm.valueFiles '{reference}' taken as {}",
                        crate::report::paths::shown(p, cwd, project_dir)
                    )),
                    None => input.unread.push(Noted {
                        message: format!(
                            "helm.valueFiles '{reference}' is another file: not read (give it with --helm-values before this file)"
                        ),
                        span: Some(span_of(&table.files, node)),
                    }),
                }
            }
            if let Some((version, node)) = &layer.version {
                input.chart_version = Some((version.clone(), span_of(&table.files, node)));
            }
            if layer.release_name.is_some() || layer.namespace.is_some() {
                release_from = format!("{} ({display})", layer.read_as);
            }
            if let Some(n) = layer.release_name {
                release_name = Some(n);
            }
            if let Some(n) = layer.namespace {
                namespace = Some(n);
            }
            let Some(values) = layer.values else { continue };
            if values.as_map().is_none() {
                continue;
            }
            for (key, note) in source::REMOVED_KEYS {
                if let Some((k, _)) = values
                    .as_map()
                    .and_then(|m| m.iter().find(|(k, _)| k.as_str() == Some(key)))
                {
                    input.removed_keys.push(Noted {
                        message: format!("`{key}:` is not read by chart 16.x: {note}"),
                        span: Some(span_of(&table.files, k)),
                    });
                }
            }
            match user.as_mut() {
                Some(base) => merge::merge_files(base, values),
                None => user = Some(values),
            }
        }
        inputs.push(input);
    }
    let release = Release {
        name: release_name.unwrap_or_else(|| DEFAULT_RELEASE.to_string()),
        namespace: namespace.unwrap_or_else(|| DEFAULT_NAMESPACE.to_string()),
    };
    let any_values = user.is_some();
    let all_other = !inputs.is_empty() && inputs.iter().all(|i| i.other_chart);
    let mut facts = HelmFacts {
        inputs,
        release: release.clone(),
        release_from,
        rendered: Vec::new(),
        render_failure: None,
        unparsed: out
            .problems
            .iter()
            .filter_map(|p| p.span.as_ref().map(|s| s.file.clone()))
            .collect(),
    };
    // Inputs that all belong to another chart render nothing; otherwise the chart renders
    // (over its defaults alone when no input had values).
    if facts.unparsed.is_empty() && (!all_other || any_values) {
        let defaults = chart_defaults(&mut table);
        let user = user.unwrap_or_else(|| Node::new(Value::Map(Vec::new()), 1, 1, 0));
        register_value_secrets(&user, &mut out.secrets);
        let values = merge::coalesce(user, defaults);
        match render::render(&values, &release, &mut table) {
            Ok(objects) => {
                for o in &objects {
                    register_env_secrets(o, &mut out.secrets);
                    let kind = o
                        .get("kind")
                        .and_then(Node::scalar_string)
                        .unwrap_or_default();
                    let name = o
                        .get("metadata")
                        .and_then(|m| m.get("name"))
                        .and_then(Node::scalar_string)
                        .unwrap_or_default();
                    facts.rendered.push(format!("{kind} {name}"));
                }
                out.manifests.objects = objects;
            }
            Err(f) => {
                facts.render_failure = Some(Noted {
                    message: f.message,
                    span: table
                        .files
                        .get(f.file as usize)
                        .map(|file| Span::new(file.clone(), f.line, f.column)),
                });
            }
        }
    }
    out.manifests.files = table.files;
    out.facts = Some(facts);
    Ok(out)
}

fn problem(file: &str, line: u32, column: u32, message: String) -> StructureProblem {
    StructureProblem {
        message,
        span: Some(Span::new(file, line, column)),
    }
}

fn span_of(files: &[String], node: &Node) -> Span {
    Span::new(
        files.get(node.file as usize).cloned().unwrap_or_default(),
        node.line,
        node.column,
    )
}

/// The chart's defaults as a values tree, every node at its line of the chart's values.yaml.
pub fn chart_defaults(table: &mut FileTable) -> Node {
    // The ~150 default snippets are parsed once per process: parsing them on every
    // `--helm-values` run cost more than reading the user's values (benches/platforms.rs).
    static PARSED: std::sync::OnceLock<Vec<Node>> = std::sync::OnceLock::new();
    let parsed = PARSED.get_or_init(|| {
        defaults::DEFAULTS
            .iter()
            .map(|(_, yaml_text, _)| {
                yaml::parse_documents(yaml_text)
                    .ok()
                    .and_then(|mut d| (!d.is_empty()).then(|| d.remove(0)))
                    .unwrap_or_else(|| Node::new(Value::Null, 1, 1, 0))
            })
            .collect()
    });
    let file = table.index(defaults::CHART_VALUES_FILE);
    let mut root = Node::new(Value::Map(Vec::new()), 1, 1, file);
    for ((path, _, line), value) in defaults::DEFAULTS.iter().zip(parsed) {
        let mut value = value.clone();
        place(&mut value, *line, file);
        insert(&mut root, path, value, file);
    }
    root
}

fn place(node: &mut Node, line: u32, file: u32) {
    node.line = line;
    node.column = 1;
    node.file = file;
    match &mut node.value {
        Value::Map(entries) => entries.iter_mut().for_each(|(k, v)| {
            place(k, line, file);
            place(v, line, file);
        }),
        Value::Seq(items) => items.iter_mut().for_each(|n| place(n, line, file)),
        _ => {}
    }
}

fn insert(root: &mut Node, path: &str, value: Node, file: u32) {
    let mut node = root;
    let keys: Vec<&str> = path.split('.').collect();
    for (depth, key) in keys.iter().enumerate() {
        let section = keys[..=depth].join(".");
        let line = defaults::SECTIONS
            .iter()
            .find(|(p, _)| *p == section)
            .map_or(value.line, |(_, l)| *l);
        let Value::Map(entries) = &mut node.value else {
            return;
        };
        let last = depth + 1 == keys.len();
        let pos = entries.iter().position(|(k, _)| k.as_str() == Some(key));
        let i = match pos {
            Some(i) => i,
            None => {
                let k = Node::new(
                    Value::Str {
                        value: (*key).to_string(),
                        raw: None,
                    },
                    line,
                    1,
                    file,
                );
                let v = Node::new(Value::Map(Vec::new()), line, 1, file);
                entries.push((k, v));
                entries.len() - 1
            }
        };
        if last {
            entries[i].1 = value;
            return;
        }
        node = &mut entries[i].1;
    }
}

/// Moves every node of a rendered object by `by` files (its file table appended to another).
pub fn offset_files(node: &mut Node, by: u32) {
    node.file = node.file.saturating_add(by);
    match &mut node.value {
        Value::Map(entries) => entries.iter_mut().for_each(|(k, v)| {
            offset_files(k, by);
            offset_files(v, by);
        }),
        Value::Seq(items) => items.iter_mut().for_each(|n| offset_files(n, by)),
        _ => {}
    }
}

/// Secret values written in the values (any key named like a secret: `clientSecret`,
/// `openaiApiKey`, `password`), and every URL password.
fn register_value_secrets(node: &Node, secrets: &mut Secrets) {
    match &node.value {
        Value::Map(entries) => {
            for (k, v) in entries {
                if let (Some(key), Some(text)) = (k.as_str(), v.scalar_string())
                    && (is_secret_key(key) || is_secret_key(&camel_to_snake(key)))
                {
                    secrets.add(&text);
                }
                register_value_secrets(v, secrets);
            }
        }
        Value::Seq(items) => items
            .iter()
            .for_each(|n| register_value_secrets(n, secrets)),
        Value::Str { value, .. } => secrets.add_url_passwords(value),
        _ => {}
    }
}

/// `openaiApiKey` → `OPENAI_API_KEY`, so [`is_secret_key`] reads chart value names as it reads
/// env names.
fn camel_to_snake(key: &str) -> String {
    let mut out = String::new();
    for (i, c) in key.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

/// Env values of secret-named variables in the rendered containers (`{name, value}` pairs,
/// including a map-form `extraEnvVars` entry the chart turned into one).
fn register_env_secrets(node: &Node, secrets: &mut Secrets) {
    match &node.value {
        Value::Map(entries) => {
            if let (Some(name), Some(value)) = (
                node.get("name").and_then(Node::as_str),
                node.get("value").and_then(Node::scalar_string),
            ) && is_secret_key(name)
            {
                secrets.add(&value);
            }
            entries
                .iter()
                .for_each(|(_, v)| register_env_secrets(v, secrets));
        }
        Value::Seq(items) => items.iter().for_each(|n| register_env_secrets(n, secrets)),
        Value::Str { value, .. } => secrets.add_url_passwords(value),
        _ => {}
    }
}

/// Reads a values file (size-limited, UTF-8, BOM dropped). Outer error: cannot open (exit 2);
/// inner error: content that is not YAML text (a finding).
/// `--helm-values -`: standard input, as `-f -`.
const STDIN: &str = crate::config::compose::STDIN_PATH;

fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == STDIN
}

fn read_text(path: &Path, display: &str) -> Result<Result<String, String>, CliError> {
    use std::io::Read;
    let cannot_read = |e: &std::io::Error| CliError::input(display, format!("cannot read: {e}"));
    let file = std::fs::File::open(path).map_err(|e| cannot_read(&e))?;
    let meta = file.metadata().map_err(|e| cannot_read(&e))?;
    if meta.is_dir() {
        return Err(CliError::input(
            display,
            "is a directory, not a Helm values file",
        ));
    }
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| cannot_read(&e))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Ok(Err(format!(
            "the file is larger than {} MiB: not read",
            MAX_FILE_BYTES / (1024 * 1024)
        )));
    }
    Ok(match String::from_utf8(bytes) {
        Ok(text) => Ok(text
            .strip_prefix('\u{feff}')
            .map(str::to_string)
            .unwrap_or(text)),
        Err(e) => Err(format!(
            "not UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        )),
    })
}
