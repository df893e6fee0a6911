//! What a `--helm-values` file is, recognised by its content, and the values layer it gives:
//! - a plain values file (`helm -f values.yaml`);
//! - a Flux `HelmRelease` (helm.toolkit.fluxcd.io): `spec.values`; `spec.valuesFrom` names
//!   ConfigMaps/Secrets in the cluster and is reported as not read;
//! - an Argo CD `Application` (argoproj.io): for each source whose `chart` is open-webui,
//!   `helm.values` (a YAML string, read with its lines in the file), then `helm.valuesObject`
//!   over it, then `helm.parameters` (Argo CD's precedence); `helm.valueFiles` are other
//!   files, reported as not read (give them with --helm-values before this one);
//! - a wrapper chart: a `Chart.yaml` listing open-webui as a dependency (its `values.yaml`
//!   beside it is read), or a values file with such a Chart.yaml beside it: the values under
//!   the dependency's key (`open-webui:` or its alias) are the subchart's values.

use std::path::Path;

use crate::config::yaml::{self, Node, Value};

use super::defaults::CHART_NAME;

/// Reads a file beside the input (Chart.yaml, values.yaml) into its documents, stamped with
/// the file's index; None when absent or unreadable.
pub type ReadSibling<'a> = dyn FnMut(&Path) -> Option<Vec<Node>> + 'a;

/// One layer of values from one input, with what the input says about the chart and release.
#[derive(Debug, Clone, Default)]
pub struct Layer {
    /// The values (a mapping), nodes stamped with the file's index.
    pub values: Option<Node>,
    /// How the values were found, for the report ("Flux HelmRelease spec.values").
    pub read_as: String,
    /// The chart the input names (`chart.spec.chart`, `source.chart`, the dependency name).
    pub chart: Option<(String, Node)>,
    /// The chart version the input pins (`chart.spec.version`, `targetRevision`, dependency
    /// `version`), with the node that says it.
    pub version: Option<(String, Node)>,
    /// The release name and namespace the input gives (HelmRelease, Application).
    pub release_name: Option<String>,
    pub namespace: Option<String>,
    /// Values the input refers to but that are not in it (valuesFrom, valueFiles), or why the
    /// input's values are not the Open WebUI chart's: each a note at its node.
    pub unread: Vec<(String, Node)>,
    /// The input is for another chart: its values are not read.
    pub other_chart: bool,
    /// Argo CD `helm.valueFiles`: other files merged before this input's values, as written
    /// (`$values/k8s/values.yaml`, a URL, a path in the chart's repository).
    pub value_files: Vec<(String, Node)>,
}

/// Reads the documents of one input file. `sibling` reads a file beside it (Chart.yaml,
/// values.yaml): (text, parsed documents) or None when absent.
pub fn layers(
    docs: &[Node],
    text: &str,
    file: u32,
    dir: &Path,
    read_sibling: &mut ReadSibling,
) -> Vec<Layer> {
    let mut out = Vec::new();
    for doc in docs {
        let kind = doc.get("kind").and_then(Node::as_str).unwrap_or_default();
        let api = doc
            .get("apiVersion")
            .and_then(Node::as_str)
            .unwrap_or_default();
        if kind == "HelmRelease" && api.starts_with("helm.toolkit.fluxcd.io") {
            out.push(helm_release(doc));
        } else if kind == "Application" && api.starts_with("argoproj.io") {
            out.extend(argo_application(doc, text, file));
        } else if kind == "ApplicationSet" && api.starts_with("argoproj.io") {
            out.push(Layer {
                read_as: "Argo CD ApplicationSet".into(),
                unread: vec![(
                    "an ApplicationSet is a template of Applications: its values are filled in per generated Application, so they are not read (give the generated Application or its values file)".into(),
                    doc.clone(),
                )],
                other_chart: true,
                ..Layer::default()
            });
        } else if let (Some(api), Some(kind)) = (
            doc.get("apiVersion").and_then(Node::scalar_string),
            doc.get("kind").and_then(Node::scalar_string),
        ) {
            // Another Kubernetes object (a HelmRepository, a Secret): not values.
            out.push(Layer {
                read_as: format!("{kind} object"),
                unread: vec![(
                    format!("a {kind} ({api}) is a Kubernetes object, not chart values: not read here (give manifests with -f)"),
                    doc.clone(),
                )],
                other_chart: true,
                ..Layer::default()
            });
        } else if is_chart_yaml(doc) {
            out.push(wrapper_chart(doc, dir, file, read_sibling));
        } else if doc.as_map().is_some() {
            out.push(plain_values(doc, dir, read_sibling));
        } else if !doc.is_null() {
            out.push(Layer {
                read_as: "values file".into(),
                unread: vec![(
                    format!(
                        "a values file is a mapping of chart values, found {}",
                        doc.kind_name()
                    ),
                    doc.clone(),
                )],
                ..Layer::default()
            });
        }
    }
    out
}

/// A Chart.yaml: `apiVersion: v1|v2` with `name:` and `version:`.
fn is_chart_yaml(doc: &Node) -> bool {
    matches!(
        doc.get("apiVersion").and_then(Node::as_str),
        Some("v1" | "v2")
    ) && doc.get("name").is_some()
        && doc.get("version").is_some()
        && doc.get("kind").is_none()
}

/// The dependency on the open-webui chart in a Chart.yaml: (values key, version node).
fn open_webui_dependency(chart: &Node) -> Option<(String, &Node, Option<&Node>)> {
    chart.get("dependencies")?.as_seq()?.iter().find_map(|d| {
        let name = d.get("name")?;
        (name.as_str() == Some(CHART_NAME)).then(|| {
            // A dependency's values live under its alias when it has one (Helm
            // pkg/chart/dependency: `alias` renames the subchart).
            let key = d
                .get("alias")
                .and_then(Node::as_str)
                .unwrap_or(CHART_NAME)
                .to_string();
            (key, name, d.get("version"))
        })
    })
}

fn with_version(layer: &mut Layer, version: Option<&Node>) {
    if let Some(v) = version
        && let Some(text) = v.scalar_string()
    {
        layer.version = Some((text, v.clone()));
    }
}

/// A Chart.yaml given directly: the wrapper's values.yaml beside it, under the dependency key.
fn wrapper_chart(doc: &Node, dir: &Path, _file: u32, read_sibling: &mut ReadSibling) -> Layer {
    let mut layer = Layer {
        read_as: "wrapper chart".into(),
        ..Layer::default()
    };
    let Some((key, name, version)) = open_webui_dependency(doc) else {
        let name = doc.get("name").and_then(Node::as_str).unwrap_or_default();
        layer.other_chart = true;
        layer.unread.push((
            format!("Chart.yaml of chart '{name}' has no dependency on the {CHART_NAME} chart: nothing to read"),
            doc.clone(),
        ));
        return layer;
    };
    layer.chart = Some((CHART_NAME.to_string(), name.clone()));
    with_version(&mut layer, version);
    let sibling = ["values.yaml", "values.yml"]
        .iter()
        .find_map(|n| read_sibling(&dir.join(n)));
    match sibling {
        Some(docs) => {
            layer.read_as = format!("wrapper chart: values.yaml beside it, under `{key}:`");
            layer.values = docs.first().and_then(|d| d.get(&key)).cloned();
        }
        None => {
            layer.read_as = "wrapper chart (no values.yaml beside it)".into();
        }
    }
    layer
}

/// A plain values file; when a Chart.yaml beside it depends on open-webui, its values are the
/// ones under the dependency's key.
fn plain_values(doc: &Node, dir: &Path, read_sibling: &mut ReadSibling) -> Layer {
    let chart = ["Chart.yaml", "Chart.yml"]
        .iter()
        .find_map(|n| read_sibling(&dir.join(n)))
        .and_then(|docs| docs.into_iter().next());
    if let Some(chart) = &chart
        && let Some((key, name, version)) = open_webui_dependency(chart)
        && doc.get(&key).is_some()
    {
        let mut layer = Layer {
            values: doc.get(&key).cloned(),
            read_as: format!("wrapper chart values under `{key}:` (Chart.yaml beside it)"),
            chart: Some((CHART_NAME.to_string(), name.clone())),
            ..Layer::default()
        };
        with_version(&mut layer, version);
        return layer;
    }
    // Without a Chart.yaml beside it: a file whose only chart is under `open-webui:` and that
    // sets none of the chart's own top-level keys is a wrapper chart's values file.
    if let Some(sub) = doc.get(CHART_NAME).filter(|s| s.as_map().is_some())
        && !doc.as_map().unwrap_or_default().iter().any(|(k, _)| {
            k.as_str().is_some_and(|k| {
                super::defaults::DEFAULTS
                    .iter()
                    .any(|(path, _, _)| path.split('.').next() == Some(k))
            })
        })
    {
        return Layer {
            values: Some(sub.clone()),
            read_as: format!("wrapper chart values under `{CHART_NAME}:`"),
            ..Layer::default()
        };
    }
    Layer {
        values: Some(doc.clone()),
        read_as: "values file".into(),
        ..Layer::default()
    }
}

/// A Flux HelmRelease (helm.toolkit.fluxcd.io/v2 API: spec.chart.spec.{chart,version},
/// spec.chartRef, spec.values, spec.valuesFrom, spec.releaseName, spec.targetNamespace).
fn helm_release(doc: &Node) -> Layer {
    let spec = doc.get("spec");
    let get = |path: &str| path.split('.').try_fold(spec?, |n, k| n.get(k));
    let name = doc
        .get("metadata")
        .and_then(|m| m.get("name"))
        .and_then(Node::as_str)
        .unwrap_or_default()
        .to_string();
    let mut layer = Layer {
        read_as: "Flux HelmRelease spec.values".into(),
        values: get("values").filter(|v| v.as_map().is_some()).cloned(),
        ..Layer::default()
    };
    // Flux: "ReleaseName ... Defaults to a composition of '[TargetNamespace-]Name'"
    // (helm-controller api/v2 HelmReleaseSpec.ReleaseName).
    let target_ns = get("targetNamespace").and_then(Node::as_str);
    layer.release_name = get("releaseName")
        .and_then(Node::as_str)
        .map(str::to_string)
        .or_else(|| {
            (!name.is_empty()).then(|| match target_ns {
                Some(ns) => format!("{ns}-{name}"),
                None => name.clone(),
            })
        });
    layer.namespace = target_ns.map(str::to_string).or_else(|| {
        doc.get("metadata")
            .and_then(|m| m.get("namespace"))
            .and_then(Node::as_str)
            .map(str::to_string)
    });
    if let Some(chart) = get("chart.spec.chart") {
        let chart_name = chart.scalar_string().unwrap_or_default();
        // `chart` may be a path in a GitRepository (`./charts/open-webui`).
        let base = chart_name
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_string();
        layer.chart = Some((base.clone(), chart.clone()));
        with_version(&mut layer, get("chart.spec.version"));
        if base != CHART_NAME {
            layer.other_chart = true;
            layer.unread.push((
                format!("the HelmRelease installs chart '{chart_name}', not {CHART_NAME}: its values are not read"),
                chart.clone(),
            ));
        }
    } else if let Some(chart_ref) = get("chartRef") {
        // A chartRef names an OCIRepository/HelmChart object, not the chart: which chart it
        // holds is in that object. bjw-s app-template values (`controllers:`) are not this
        // chart's, whatever the reference is called.
        let ref_name = chart_ref
            .get("name")
            .and_then(Node::as_str)
            .unwrap_or_default();
        let app_template = layer
            .values
            .as_ref()
            .is_some_and(|v| v.get("controllers").is_some());
        if app_template || !ref_name.contains(CHART_NAME) {
            layer.other_chart = true;
            layer.unread.push((
                format!(
                    "spec.chartRef '{ref_name}' {}: its values are not read",
                    if app_template {
                        "carries app-template values (`controllers:`), not the open-webui chart's"
                    } else {
                        "does not name the open-webui chart"
                    }
                ),
                chart_ref.clone(),
            ));
        } else {
            // The version is in that object (not among the inputs): left unknown.
            layer.chart = Some((CHART_NAME.to_string(), chart_ref.clone()));
        }
    }
    if layer.other_chart {
        layer.values = None;
    }
    if let Some(from) = get("valuesFrom").and_then(Node::as_seq) {
        for entry in from {
            let kind = entry.get("kind").and_then(Node::as_str).unwrap_or("object");
            let name = entry.get("name").and_then(Node::as_str).unwrap_or_default();
            layer.unread.push((
                format!("spec.valuesFrom {kind} '{name}' is in the cluster, not read: values it sets are not checked"),
                entry.clone(),
            ));
        }
    }
    layer
}

/// An Argo CD Application: one layer per Helm source of the open-webui chart.
fn argo_application(doc: &Node, text: &str, file: u32) -> Vec<Layer> {
    let spec = doc.get("spec");
    let mut sources: Vec<&Node> = Vec::new();
    if let Some(s) = get(spec, "source") {
        sources.push(s);
    }
    if let Some(list) = get(spec, "sources").and_then(Node::as_seq) {
        sources.extend(list.iter());
    }
    let app_name = get(doc.get("metadata"), "name")
        .and_then(Node::as_str)
        .map(str::to_string);
    let namespace = get(spec, "destination.namespace")
        .and_then(Node::as_str)
        .map(str::to_string);
    let mut out = Vec::new();
    for source in sources {
        let Some(chart) = source.get("chart") else {
            continue;
        };
        let chart_name = chart.scalar_string().unwrap_or_default();
        let mut layer = Layer {
            read_as: "Argo CD Application spec.source.helm".into(),
            chart: Some((chart_name.clone(), chart.clone())),
            release_name: get(Some(source), "helm.releaseName")
                .and_then(Node::as_str)
                .map(str::to_string)
                .or_else(|| app_name.clone()),
            namespace: namespace.clone(),
            ..Layer::default()
        };
        with_version(&mut layer, source.get("targetRevision"));
        if chart_name != CHART_NAME {
            layer.other_chart = true;
            layer.unread.push((
                format!("the Application installs chart '{chart_name}', not {CHART_NAME}: its values are not read"),
                chart.clone(),
            ));
            out.push(layer);
            continue;
        }
        let helm = source.get("helm");
        let mut values: Option<Node> = None;
        // Argo CD: valueFiles < values < valuesObject < parameters.
        if let Some(files) = get(helm, "valueFiles").and_then(Node::as_seq) {
            for f in files {
                layer
                    .value_files
                    .push((f.scalar_string().unwrap_or_default(), f.clone()));
            }
        }
        if let Some(v) = get(helm, "values") {
            match &v.value {
                Value::Str { value, .. } => match embedded(value, v, text, file) {
                    Ok(Some(node)) => values = Some(node),
                    Ok(None) => {}
                    Err(message) => layer.unread.push((message, v.clone())),
                },
                Value::Map(_) => values = Some(v.clone()),
                _ => {}
            }
        }
        if let Some(obj) = get(helm, "valuesObject").filter(|v| v.as_map().is_some()) {
            match values.as_mut() {
                Some(base) => super::merge::merge_files(base, obj.clone()),
                None => values = Some(obj.clone()),
            }
        }
        if let Some(params) = get(helm, "parameters").and_then(Node::as_seq) {
            let base = values.get_or_insert_with(|| {
                Node::new(Value::Map(Vec::new()), source.line, source.column, file)
            });
            for p in params {
                if let (Some(name), Some(value)) =
                    (p.get("name").and_then(Node::as_str), p.get("value"))
                {
                    set_path(base, name, value.clone());
                }
            }
        }
        layer.values = values;
        out.push(layer);
    }
    if out.is_empty() {
        out.push(Layer {
            read_as: "Argo CD Application".into(),
            other_chart: true,
            unread: vec![(
                "the Application has no Helm chart source: nothing to read".into(),
                doc.clone(),
            )],
            ..Layer::default()
        });
    }
    out
}

fn get<'a>(n: Option<&'a Node>, path: &str) -> Option<&'a Node> {
    path.split('.').try_fold(n?, |n, k| n.get(k))
}

/// `--set a.b=v` for an Argo CD parameter (dotted keys; list indexes are not supported).
fn set_path(base: &mut Node, path: &str, value: Node) {
    let mut over = value;
    for key in path.rsplit('.') {
        let at = (over.line, over.column, over.file);
        let k = Node::new(
            Value::Str {
                value: key.to_string(),
                raw: None,
            },
            at.0,
            at.1,
            at.2,
        );
        over = Node::new(Value::Map(vec![(k, over)]), at.0, at.1, at.2);
    }
    super::merge::merge_files(base, over);
}

/// A YAML document held in a string (`helm.values: |`), parsed with its lines moved to where
/// they are in the file: a block scalar's content starts on the line after its indicator and
/// is indented; a quoted or plain string keeps the value's line.
fn embedded(value: &str, node: &Node, text: &str, file: u32) -> Result<Option<Node>, String> {
    let mut docs = yaml::parse_documents(value)
        .map_err(|e| format!("helm.values does not parse as YAML: {}", e.message))?;
    if docs.is_empty() {
        return Ok(None);
    }
    let mut doc = docs.remove(0);
    if doc.is_null() {
        return Ok(None);
    }
    if doc.as_map().is_none() {
        return Err(format!(
            "helm.values must hold a mapping of chart values, found {}",
            doc.kind_name()
        ));
    }
    let lines: Vec<&str> = text.lines().collect();
    let at = node.line.saturating_sub(1) as usize;
    let indicator = lines
        .get(at)
        .map(|l| {
            let after = l
                .get(node.column.saturating_sub(1) as usize..)
                .unwrap_or("");
            after.trim_start().starts_with(['|', '>'])
        })
        .unwrap_or(false);
    let (line_offset, column_offset) = if indicator {
        // The first content line's indentation is the block's indentation.
        let indent = lines
            .iter()
            .skip(at + 1)
            .find(|l| !l.trim().is_empty())
            .map_or(0, |l| l.len() - l.trim_start().len());
        (node.line, u32::try_from(indent).unwrap_or(0))
    } else {
        (node.line.saturating_sub(1), node.column.saturating_sub(1))
    };
    shift(&mut doc, line_offset, column_offset);
    doc.set_file(file);
    Ok(Some(doc))
}

fn shift(node: &mut Node, lines: u32, columns: u32) {
    node.line = node.line.saturating_add(lines);
    node.column = node.column.saturating_add(columns);
    match &mut node.value {
        Value::Map(entries) => entries.iter_mut().for_each(|(k, v)| {
            shift(k, lines, columns);
            shift(v, lines, columns);
        }),
        Value::Seq(items) => items.iter_mut().for_each(|n| shift(n, lines, columns)),
        _ => {}
    }
}

/// Top-level keys that chart versions before 7.0.0 read and 16.0.0 ignores: the Bitnami
/// `redis-cluster` dependency was removed in helm-charts commit 30194fc (2025-07-25, chart
/// 7.0.0, "BREAKING CHANGE: drop support for Bitnami Postgres and Redis charts"); chart 16.0.0's
/// Chart.yaml:21-43 lists no such dependency and no template reads these keys.
pub const REMOVED_KEYS: &[(&str, &str)] = &[
    (
        "redis-cluster",
        "the Bitnami redis-cluster dependency was removed in chart 7.0.0: chart 16 deploys no Redis cluster and sets no env from these values",
    ),
    (
        "postgresql",
        "the Bitnami postgresql dependency was removed in chart 7.0.0: chart 16 ignores these values",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Vec<Layer> {
        let docs = yaml::parse_documents(text).unwrap();
        layers(&docs, text, 0, Path::new("/nonexistent"), &mut |_| None)
    }

    #[test]
    fn an_app_template_helmrelease_is_another_chart() {
        // bjw-s app-template via an OCIRepository named open-webui (corpus: 1activegeek).
        let l = read(
            "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: open-webui\nspec:\n  chartRef:\n    kind: OCIRepository\n    name: open-webui\n  values:\n    controllers:\n      main: {}\n",
        );
        assert!(l[0].other_chart && l[0].values.is_none());
        let l = read(
            "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: owui\nspec:\n  targetNamespace: ai\n  chart:\n    spec:\n      chart: open-webui\n      version: 16.0.0\n  values:\n    replicaCount: 2\n",
        );
        assert!(!l[0].other_chart);
        assert_eq!(l[0].version.as_ref().unwrap().0, "16.0.0");
        // Flux: release name `[targetNamespace-]name`, in the target namespace.
        assert_eq!(l[0].release_name.as_deref(), Some("ai-owui"));
        assert_eq!(l[0].namespace.as_deref(), Some("ai"));
        let replicas = l[0].values.as_ref().unwrap().get("replicaCount").unwrap();
        assert_eq!(replicas.line, 12);
    }

    #[test]
    fn argo_values_string_keeps_file_lines_and_value_object_wins() {
        let text = "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: chat\nspec:\n  source:\n    chart: open-webui\n    targetRevision: 16.0.0\n    helm:\n      values: |\n        replicaCount: 2\n        websocket:\n          url: redis://a:6379/0\n      valuesObject:\n        replicaCount: 4\n      parameters:\n        - name: websocket.manager\n          value: redis\n";
        let l = read(text);
        let v = l[0].values.as_ref().unwrap();
        let url = v.get("websocket").unwrap().get("url").unwrap();
        assert_eq!((url.line, url.column), (13, 16));
        let replicas = v.get("replicaCount").unwrap();
        assert_eq!((replicas.as_str(), replicas.line), (None, 15));
        assert_eq!(
            v.get("websocket").unwrap().get("manager").unwrap().as_str(),
            Some("redis")
        );
        assert_eq!(l[0].release_name.as_deref(), Some("chat"));
    }

    #[test]
    fn a_values_file_with_only_an_open_webui_key_is_a_wrapper_values_file() {
        let l = read("open-webui:\n  replicaCount: 2\n");
        assert_eq!(
            l[0].values
                .as_ref()
                .unwrap()
                .get("replicaCount")
                .unwrap()
                .line,
            2
        );
        // With the chart's own keys beside it, it is a plain values file.
        let l = read("replicaCount: 1\nopen-webui:\n  x: 1\n");
        assert!(l[0].values.as_ref().unwrap().get("open-webui").is_some());
    }
}
