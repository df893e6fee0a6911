//! Kubernetes manifests as a deployment source: YAML documents with `apiVersion` and `kind`
//! (multi-document files, directories, `kind: List`, kustomize and `helm template` output),
//! read into the same deployment model as compose.

use crate::config::yaml::Node;

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
