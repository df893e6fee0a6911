//! Merging compose trees the way compose-go's `override.Merge` does: used for several `-f`
//! files, several documents in one file, and `extends`. Each node keeps its own file and
//! position, so a merged value still points at the file that set it.
//!
//! Rules (compose-go `override/merge.go` and `uncity.go`, and the compose spec "Merge"):
//! mappings merge key by key, `x-*` keys are replaced whole; `command`, `entrypoint` and
//! `healthcheck.test` are replaced; `environment`, `labels`, `annotations`, `sysctls`,
//! `build.args`, `deploy.labels`, `extra_hosts`, `env_file` are appended in sequence form
//! (the model keeps the last definition of each key and the earlier ones as shadowed);
//! `ports`, `expose`, `dns*` are appended without duplicates; `networks` and `depends_on` are
//! merged as mappings whatever form each side uses; other sequences are appended and other
//! scalars replaced. `!reset` removes the value, `!override` replaces it instead of merging.

use crate::config::yaml::{Node, Value};

const RESET: &str = "!reset";
const OVERRIDE: &str = "!override";

/// How a service attribute merges.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Rule {
    Replace,
    KeyedSequence,
    UniqueSequence,
    AsMapping,
    Default,
}

fn rule_for(path: &[String]) -> Rule {
    let p: Vec<&str> = path.iter().map(String::as_str).collect();
    match p.as_slice() {
        ["services", _, "command" | "entrypoint"] => Rule::Replace,
        ["services", _, "healthcheck", "test"] => Rule::Replace,
        [
            "services",
            _,
            "environment" | "labels" | "annotations" | "sysctls" | "extra_hosts",
        ]
        | ["services", _, "build", "args" | "labels"]
        | ["services", _, "deploy", "labels"]
        | ["services", _, "env_file"] => Rule::KeyedSequence,
        [
            "services",
            _,
            "ports" | "expose" | "dns" | "dns_search" | "dns_opt",
        ] => Rule::UniqueSequence,
        ["services", _, "networks" | "depends_on"] => Rule::AsMapping,
        _ => Rule::Default,
    }
}

/// Merges `over` onto `base` at `path`; None when the result is removed (`!reset`).
pub fn merge(base: Node, mut over: Node, path: &mut Vec<String>) -> Option<Node> {
    match over.tag.as_deref() {
        Some(RESET) => return None,
        Some(OVERRIDE) => {
            over.tag = None;
            return Some(strip_resets(over));
        }
        _ => {}
    }
    let over = strip_resets_below(over, path);
    match rule_for(path) {
        Rule::Replace => Some(over),
        Rule::KeyedSequence => Some(append(to_sequence(base), to_sequence(over), false)),
        Rule::UniqueSequence => match (&base.value, &over.value) {
            (Value::Seq(_), Value::Seq(_)) => Some(append(base, over, true)),
            _ => Some(over),
        },
        Rule::AsMapping => Some(merge_maps(to_mapping(base), to_mapping(over), path)),
        Rule::Default => match (&base.value, &over.value) {
            (Value::Map(_), Value::Map(_)) => Some(merge_maps(base, over, path)),
            (Value::Seq(_), Value::Seq(_)) => Some(append(base, over, false)),
            _ => Some(over),
        },
    }
}

fn merge_maps(base: Node, over: Node, path: &mut Vec<String>) -> Node {
    let Value::Map(mut entries) = base.value else {
        return over;
    };
    let Value::Map(over_entries) = over.value else {
        return Node {
            value: Value::Map(entries),
            ..base
        };
    };
    for (key, value) in over_entries {
        let name = key.scalar_string().unwrap_or_default();
        let existing = entries
            .iter()
            .position(|(k, _)| k.scalar_string().as_deref() == Some(name.as_str()));
        match existing {
            Some(i) if !name.starts_with("x-") => {
                let (k, old) = entries.remove(i);
                path.push(name);
                let merged = merge(old, value, path);
                path.pop();
                if let Some(m) = merged {
                    // The key stays where it was first written (the first file).
                    entries.insert(i, (k, m));
                }
            }
            Some(i) => {
                if value.tag.as_deref() == Some(RESET) {
                    entries.remove(i);
                } else {
                    entries[i].1 = strip_resets(value);
                }
            }
            None => {
                if value.tag.as_deref() != Some(RESET) {
                    entries.push((key, strip_resets(value)));
                }
            }
        }
    }
    Node {
        value: Value::Map(entries),
        ..base
    }
}

fn append(base: Node, over: Node, unique: bool) -> Node {
    let mut items = match base.value {
        Value::Seq(items) => items,
        _ => return over,
    };
    let more = match over.value {
        Value::Seq(more) => more,
        other => {
            return Node {
                value: other,
                ..over
            };
        }
    };
    for item in more {
        if unique && items.iter().any(|i| same_scalar(i, &item)) {
            continue;
        }
        items.push(item);
    }
    Node {
        value: Value::Seq(items),
        line: base.line,
        column: base.column,
        file: base.file,
        tag: None,
    }
}

fn same_scalar(a: &Node, b: &Node) -> bool {
    match (a.scalar_string(), b.scalar_string()) {
        (Some(x), Some(y)) => x == y,
        _ => false,
    }
}

/// `environment`-like values as a sequence: list items stay; a map entry becomes a one-entry
/// map (so the key and the value keep their own positions). Anything else is kept as a
/// one-item sequence and reported when the model is built.
fn to_sequence(node: Node) -> Node {
    let value = match node.value {
        Value::Seq(items) => Value::Seq(items),
        Value::Map(entries) => Value::Seq(
            entries
                .into_iter()
                .map(|(k, v)| Node {
                    line: k.line,
                    column: k.column,
                    file: k.file,
                    tag: None,
                    value: Value::Map(vec![(k, v)]),
                })
                .collect(),
        ),
        Value::Null => Value::Seq(Vec::new()),
        other => Value::Seq(vec![Node {
            value: other,
            line: node.line,
            column: node.column,
            file: node.file,
            tag: None,
        }]),
    };
    Node { value, ..node }
}

/// `networks` / `depends_on` as a mapping: a list item `name` becomes `name: null`.
fn to_mapping(node: Node) -> Node {
    let value = match node.value {
        Value::Seq(items) => Value::Map(
            items
                .into_iter()
                .map(|item| {
                    let null = Node::new(Value::Null, item.line, item.column, item.file);
                    (item, null)
                })
                .collect(),
        ),
        Value::Null => Value::Map(Vec::new()),
        other => other,
    };
    Node { value, ..node }
}

/// A subtree that is new (nothing to merge with): `!reset` entries vanish, `!override`
/// tags are dropped.
pub fn strip_resets(mut node: Node) -> Node {
    if node.tag.as_deref() == Some(OVERRIDE) {
        node.tag = None;
    }
    match node.value {
        Value::Map(entries) => {
            node.value = Value::Map(
                entries
                    .into_iter()
                    .filter(|(_, v)| v.tag.as_deref() != Some(RESET))
                    .map(|(k, v)| (k, strip_resets(v)))
                    .collect(),
            );
        }
        Value::Seq(items) => {
            node.value = Value::Seq(
                items
                    .into_iter()
                    .filter(|v| v.tag.as_deref() != Some(RESET))
                    .map(strip_resets)
                    .collect(),
            );
        }
        _ => {}
    }
    node
}

/// Inside a value about to be merged, only mapping entries are merged recursively; nested
/// sequences are taken as they are, so their `!reset` items must go now.
fn strip_resets_below(node: Node, _path: &[String]) -> Node {
    match node.value {
        Value::Seq(_) => strip_resets(node),
        _ => node,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::yaml::parse_documents;

    fn doc(text: &str) -> Node {
        parse_documents(text).unwrap().remove(0)
    }

    fn merged(a: &str, b: &str) -> Node {
        merge(doc(a), doc(b), &mut Vec::new()).unwrap()
    }

    #[test]
    fn command_is_replaced_and_ports_appended_unique() {
        let m = merged(
            "services:\n  a:\n    command: [x, y]\n    ports: ['80', '81']\n",
            "services:\n  a:\n    command: [z]\n    ports: ['81', '82']\n",
        );
        let a = m.get("services").unwrap().get("a").unwrap();
        assert_eq!(a.get("command").unwrap().as_seq().unwrap().len(), 1);
        let ports: Vec<String> = a
            .get("ports")
            .unwrap()
            .as_seq()
            .unwrap()
            .iter()
            .filter_map(Node::scalar_string)
            .collect();
        assert_eq!(ports, ["80", "81", "82"]);
    }

    #[test]
    fn environment_keeps_both_definitions_in_order() {
        let m = merged(
            "services:\n  a:\n    environment:\n      A: 1\n",
            "services:\n  a:\n    environment:\n      - A=2\n",
        );
        let env = m
            .get("services")
            .unwrap()
            .get("a")
            .unwrap()
            .get("environment");
        let items = env.unwrap().as_seq().unwrap();
        assert_eq!(items.len(), 2);
        assert!(items[0].as_map().is_some());
        assert_eq!(items[1].as_str(), Some("A=2"));
        assert_eq!(items[1].line, 4);
    }

    #[test]
    fn reset_and_override() {
        let m = merged(
            "services:\n  a:\n    ports: ['80']\n    labels: {a: 1}\n    networks: [x]\n",
            "services:\n  a:\n    ports: !reset []\n    networks: !override [y]\n",
        );
        let a = m.get("services").unwrap().get("a").unwrap();
        assert!(a.get("ports").is_none());
        assert!(a.get("labels").is_some());
        let nets = a.get("networks").unwrap().as_seq().unwrap();
        assert_eq!(nets.len(), 1);
        assert_eq!(nets[0].as_str(), Some("y"));
    }

    #[test]
    fn networks_merge_across_forms() {
        let m = merged(
            "services:\n  a:\n    networks: [front]\n",
            "services:\n  a:\n    networks:\n      back:\n        aliases: [b]\n",
        );
        let nets = m.get("services").unwrap().get("a").unwrap().get("networks");
        let keys: Vec<String> = nets
            .unwrap()
            .as_map()
            .unwrap()
            .iter()
            .filter_map(|(k, _)| k.scalar_string())
            .collect();
        assert_eq!(keys, ["front", "back"]);
    }
}
