//! Kubernetes manifests as a deployment source: YAML documents with `apiVersion` and `kind`
//! (multi-document files, directories, `kind: List`, kustomize and `helm template` output),
//! read into the same deployment model as compose.

mod objects;
mod read;
pub mod resolve;

use std::path::{Path, PathBuf};

pub use objects::*;
pub use read::{deployment_from_manifests, expand};

use crate::config::yaml::{self, Node, Value};
use crate::config::{Deployment, Span, StructureProblem, scan_ignores};
use crate::error::CliError;

/// Kubernetes objects gathered from one or more files, before they are read into the model.
/// Each object's [`Node::file`] indexes `files`; the Helm values reader produces the same
/// shape (objects the chart would render, their values' spans pointing into the values files).
#[derive(Debug, Clone, Default)]
pub struct Manifests {
    /// The files the objects came from, as shown to the user.
    pub files: Vec<String>,
    /// One node per object (a mapping with `apiVersion` and `kind`), `kind: List` unfolded.
    pub objects: Vec<Node>,
}

/// Whether a YAML text is Kubernetes manifests: some line starts a document or list item
/// with `apiVersion:` and some has `kind:` (compose files have neither). Works on text that
/// does not parse, so a broken manifest is reported as one (`kube.manifest-syntax`).
pub fn looks_like_manifests(text: &str) -> bool {
    let keyed = |key: &str| {
        text.lines().any(|l| {
            let t = l.trim_start().trim_start_matches("- ").trim_start();
            t.starts_with(key)
        })
    };
    (keyed("apiVersion:") && keyed("kind:")) || is_json_patch_text(text)
}

/// A kustomize JSON 6902 patch file (`- op: replace` / `path:` items): kustomize input that
/// lives beside manifests.
fn is_json_patch_text(text: &str) -> bool {
    text.lines()
        .map(str::trim_end)
        .find(|l| !l.is_empty() && !l.starts_with('#') && l != &"---")
        .is_some_and(|l| l.starts_with("- op:"))
}

/// A document that is a JSON 6902 patch: a list of `{op, path}` mappings.
fn is_json_patch(doc: &Node) -> bool {
    doc.as_seq().is_some_and(|items| {
        !items.is_empty()
            && items
                .iter()
                .all(|i| i.get("op").is_some() && i.get("path").is_some())
    })
}

/// A mapping that is a kustomize input (`kustomization.yaml`), with or without its
/// `kind: Kustomization`: kustomize, not the API server, reads it.
fn is_kustomization(doc: &Node) -> bool {
    const KEYS: [&str; 8] = [
        "resources",
        "bases",
        "components",
        "patches",
        "patchesStrategicMerge",
        "patchesJson6902",
        "configMapGenerator",
        "secretGenerator",
    ];
    doc.get("apiVersion").is_none()
        && doc.get("kind").is_none()
        && KEYS.iter().any(|k| doc.get(k).is_some())
}

/// The YAML files under a directory, recursively, sorted (the order `kubectl apply -f DIR -R`
/// reads them in).
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            if p.is_dir() {
                stack.push(p);
            } else if name.ends_with(".yaml") || name.ends_with(".yml") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Manifests read from files, with what could not be read.
#[derive(Debug, Default)]
pub struct ReadManifests {
    pub manifests: Manifests,
    pub syntax: Vec<StructureProblem>,
    /// Kustomize inputs without `kind` (a `kind: Kustomization` object is found by the reader).
    pub kustomizations: Vec<Span>,
    pub ignores: Vec<crate::report::InlineIgnore>,
}

impl ReadManifests {
    /// Adds one file's text: each document an object (a `kind: List` unfolded), a syntax
    /// problem, or something else (ignored).
    pub fn add_text(&mut self, display: &str, text: &str) {
        let index = u32::try_from(self.manifests.files.len()).unwrap_or(u32::MAX);
        self.manifests.files.push(display.to_string());
        self.ignores.extend(scan_ignores(display, text));
        let docs = match yaml::parse_documents(text) {
            Ok(docs) => docs,
            Err(e) => {
                self.syntax.push(StructureProblem {
                    message: e.message,
                    span: Some(Span::new(
                        display,
                        e.line.unwrap_or(1),
                        e.column.unwrap_or(1),
                    )),
                });
                return;
            }
        };
        for mut doc in docs {
            doc.set_file(index);
            self.add_document(display, doc);
        }
    }

    fn add_document(&mut self, display: &str, doc: Node) {
        match &doc.value {
            Value::Null => {}
            Value::Map(_) => {
                let kind = doc.get("kind").and_then(Node::scalar_string);
                let api = doc.get("apiVersion").and_then(Node::scalar_string);
                match (api, kind) {
                    (Some(_), Some(kind)) if kind == "List" || kind.ends_with("List") && doc.get("items").is_some() => {
                        for item in doc.get("items").and_then(Node::as_seq).unwrap_or_default() {
                            self.add_document(display, item.clone());
                        }
                    }
                    (Some(_), Some(_)) => self.manifests.objects.push(doc),
                    (None, None) if is_kustomization(&doc) => self
                        .kustomizations
                        .push(Span::new(display, doc.line, doc.column)),
                    // A values file or other YAML beside the manifests: not an object.
                    (None, None) => {}
                    (api, _) => self.syntax.push(StructureProblem {
                        message: format!(
                            "a document with {} but no `{}`: not a Kubernetes object (the API server refuses it)",
                            if api.is_some() { "`apiVersion`" } else { "`kind`" },
                            if api.is_some() { "kind" } else { "apiVersion" },
                        ),
                        span: Some(Span::new(display, doc.line, doc.column)),
                    }),
                }
            }
            Value::Seq(_) if is_json_patch(&doc) => self
                .kustomizations
                .push(Span::new(display, doc.line, doc.column)),
            _ => self.syntax.push(StructureProblem {
                message: format!(
                    "a document that is {}, not a Kubernetes object (a mapping with apiVersion and kind)",
                    doc.kind_name()
                ),
                span: Some(Span::new(display, doc.line, doc.column)),
            }),
        }
    }
}

/// Reads the deployment from manifests: `paths` are files, directories (recursively) or `-`
/// (standard input, already read into `stdin`). A path that does not exist is exit 2; a file
/// that does not parse is a `kube.manifest-syntax` finding.
pub fn load(
    paths: &[PathBuf],
    stdin: Option<&str>,
    project_dir: &Path,
    shown: &dyn Fn(&Path) -> String,
) -> Result<Deployment, CliError> {
    let mut read = ReadManifests::default();
    for path in paths {
        if path.as_os_str() == "-" {
            read.add_text("-", stdin.unwrap_or_default());
            continue;
        }
        if path.is_dir() {
            for f in files_under(path) {
                let text = read_file(&f, &shown(&f))?;
                read.add_text(&shown(&f), &text);
            }
            continue;
        }
        let display = shown(path);
        let text = read_file(path, &display)?;
        read.add_text(&display, &text);
    }
    let mut dep = deployment_from_manifests(&read.manifests, project_dir);
    dep.ignores = read.ignores;
    if let Some(cluster) = dep.kube.as_mut() {
        cluster.syntax.extend(read.syntax);
        cluster.kustomizations.extend(read.kustomizations);
    }
    Ok(dep)
}

/// A manifest file as text; not UTF-8 or too large is a finding (empty text plus a problem
/// would lose the position), so both come back as an error only when the file cannot be opened.
fn read_file(path: &Path, display: &str) -> Result<String, CliError> {
    let bytes =
        std::fs::read(path).map_err(|e| CliError::input(display, format!("cannot read: {e}")))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}
