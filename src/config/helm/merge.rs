//! Helm's value merging, on spanned YAML trees.
//!
//! Two steps, as Helm 3 does them:
//! 1. `helm -f a.yaml -f b.yaml`: each file over the previous ones (helm/helm
//!    pkg/cli/values/options.go `mergeMaps`): a mapping merges key by key, anything else
//!    (a list, a scalar, null, a mapping over a non-mapping) replaces.
//! 2. The result over the chart's defaults (pkg/chartutil/coalesce.go `coalesceTablesFullKey`):
//!    the user's value wins, mappings merge, and a user `null` deletes the key (the default is
//!    dropped too; the template then sees the key as absent).
//!
//! Every node keeps the span of the file that set it, so the merged tree tells, for each
//! value, which file and line it came from.

use crate::config::yaml::{Node, Value};

/// `over` over `base`, as `helm -f base -f over` merges them (step 1).
pub fn merge_files(base: &mut Node, over: Node) {
    match (&mut base.value, over.value) {
        (Value::Map(base_entries), Value::Map(over_entries)) => {
            for (key, value) in over_entries {
                let name = key.scalar_string();
                match base_entries
                    .iter_mut()
                    .rev()
                    .find(|(k, _)| k.scalar_string() == name)
                {
                    Some((_, existing))
                        if existing.as_map().is_some() && value.as_map().is_some() =>
                    {
                        merge_files(existing, value);
                    }
                    Some(entry) => *entry = (key, value),
                    None => base_entries.push((key, value)),
                }
            }
        }
        (_, value) => {
            *base = Node {
                value,
                line: over.line,
                column: over.column,
                file: over.file,
                tag: over.tag,
            };
        }
    }
}

/// The user's values over the chart defaults (step 2): user wins, mappings merge, `null`
/// deletes. Nulls left anywhere (inside a user subtree the chart has no default for) are
/// removed too: a template reads an absent key and a nil one alike.
pub fn coalesce(user: Node, defaults: Node) -> Node {
    let mut out = defaults;
    apply(&mut out, user);
    strip_nulls(&mut out);
    out
}

fn apply(dst: &mut Node, user: Node) {
    match (&mut dst.value, user.value) {
        (Value::Map(entries), Value::Map(user_entries)) => {
            // The user's mapping replaces the default's position: the key the user wrote
            // is where a reader looks for this section.
            dst.line = user.line;
            dst.column = user.column;
            dst.file = user.file;
            for (key, value) in user_entries {
                let name = key.scalar_string();
                let found = entries.iter().rposition(|(k, _)| k.scalar_string() == name);
                match found {
                    _ if value.is_null() => entries.retain(|(k, _)| k.scalar_string() != name),
                    Some(i) if entries[i].1.as_map().is_some() && value.as_map().is_some() => {
                        entries[i].0 = key;
                        apply(&mut entries[i].1, value);
                    }
                    Some(i) => entries[i] = (key, value),
                    None => entries.push((key, value)),
                }
            }
        }
        (_, value) => {
            *dst = Node {
                value,
                line: user.line,
                column: user.column,
                file: user.file,
                tag: user.tag,
            };
        }
    }
}

fn strip_nulls(node: &mut Node) {
    match &mut node.value {
        Value::Map(entries) => {
            entries.retain(|(_, v)| !v.is_null());
            entries.iter_mut().for_each(|(_, v)| strip_nulls(v));
        }
        Value::Seq(items) => items.iter_mut().for_each(strip_nulls),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::yaml::parse_documents;

    fn doc(text: &str, file: u32) -> Node {
        let mut d = parse_documents(text).unwrap().remove(0);
        d.set_file(file);
        d
    }

    fn at<'a>(n: &'a Node, path: &str) -> Option<&'a Node> {
        path.split('.').try_fold(n, |n, k| n.get(k))
    }

    #[test]
    fn later_file_merges_mappings_and_replaces_lists_and_scalars() {
        let mut a = doc(
            "websocket:\n  enabled: true\n  url: redis://a:6379/0\nextraEnvVars:\n  - name: A\n    value: '1'\n  - name: B\n    value: '2'\nreplicaCount: 1\n",
            0,
        );
        let b = doc(
            "websocket:\n  url: redis://b:6379/0\nextraEnvVars:\n  - name: C\n    value: '3'\nreplicaCount: 3\n",
            1,
        );
        merge_files(&mut a, b);
        // Maps merge: enabled from a (line 2), url from b (line 2 of file 1).
        let enabled = at(&a, "websocket.enabled").unwrap();
        assert_eq!((enabled.file, enabled.line), (0, 2));
        let url = at(&a, "websocket.url").unwrap();
        assert_eq!(url.as_str(), Some("redis://b:6379/0"));
        assert_eq!((url.file, url.line), (1, 2));
        // A list replaces (Helm does not append lists).
        let env = a.get("extraEnvVars").unwrap().as_seq().unwrap();
        assert_eq!(env.len(), 1);
        assert_eq!(env[0].get("name").unwrap().as_str(), Some("C"));
        let replicas = a.get("replicaCount").unwrap();
        assert_eq!((replicas.value.clone(), replicas.file), (Value::Int(3), 1));
    }

    #[test]
    fn a_scalar_replaces_a_mapping_between_files_and_null_is_kept_until_coalesce() {
        let mut a = doc("ingress:\n  enabled: true\nwebsocket:\n  url: x\n", 0);
        merge_files(&mut a, doc("ingress: false\nwebsocket:\n  url: null\n", 1));
        assert_eq!(a.get("ingress").unwrap().as_bool(), Some(false));
        assert!(at(&a, "websocket.url").unwrap().is_null());
    }

    #[test]
    fn coalesce_user_wins_maps_merge_and_null_deletes_the_default() {
        let defaults = doc(
            "websocket:\n  enabled: true\n  manager: redis\n  redis:\n    enabled: true\nreplicaCount: 1\n",
            9,
        );
        let user = doc(
            "websocket:\n  manager: null\n  redis:\n    enabled: false\nreplicaCount: 2\nextra: {a: null, b: 1}\n",
            0,
        );
        let v = coalesce(user, defaults);
        assert_eq!(at(&v, "websocket.enabled").unwrap().file, 9);
        assert!(
            at(&v, "websocket.manager").is_none(),
            "null deletes the default"
        );
        let redis = at(&v, "websocket.redis.enabled").unwrap();
        assert_eq!(
            (redis.as_bool(), redis.file, redis.line),
            (Some(false), 0, 4)
        );
        assert_eq!(v.get("replicaCount").unwrap().value, Value::Int(2));
        assert!(at(&v, "extra.a").is_none());
        assert_eq!(at(&v, "extra.b").unwrap().value, Value::Int(1));
        // The section the user wrote is where the merged mapping points.
        assert_eq!(v.get("websocket").unwrap().file, 0);
    }

    #[test]
    fn coalesce_a_user_scalar_over_a_default_mapping_wins() {
        // coalesce.go: "cannot overwrite table with non table" is a warning; the user's value
        // stays in .Values.
        let v = coalesce(
            doc("ingress: yes-please\n", 0),
            doc("ingress:\n  enabled: false\n", 9),
        );
        assert_eq!(v.get("ingress").unwrap().as_str(), Some("yes-please"));
    }
}
