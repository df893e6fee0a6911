//! A generic YAML tree with the line and column of every key and value.
//!
//! Why serde-saphyr (dependency-notes.md §2, E7): it gives `Spanned<T>` on keys *and* values,
//! resolves merge keys natively (`<<: *a`, `<<: [*a, *b]`, local keys override) with the
//! *use site* as the referenced location, exposes explicit tags (`!reset`, `!override`), has
//! alias-replay and node budgets against alias bombs, and is actively maintained. serde_yaml
//! (the crate the issue named) is archived upstream and has no spans at all; saphyr's
//! `MarkedYaml` leaves `<<` unresolved; marked-yaml refuses anchors.
//!
//! The tree is built by one hand-written visitor (never `untagged`/`flatten` on spanned data:
//! serde buffers those through `Content` and the spans become 0:0, and an untagged enum fails
//! outright on a merged map).

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::{Spanned, Tagged};

/// A YAML node: a value, where it is used (line/column, 1-based) and in which file.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    pub line: u32,
    pub column: u32,
    /// Index of the file in the loader's file table (set by [`Node::set_file`]).
    pub file: u32,
    /// An explicit application tag such as `!reset` or `!override`.
    pub tag: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    /// A string; `raw` is the text as written when interpolation changed it.
    Str {
        value: String,
        raw: Option<String>,
    },
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

impl Node {
    pub fn new(value: Value, line: u32, column: u32, file: u32) -> Self {
        Node {
            value,
            line,
            column,
            file,
            tag: None,
        }
    }

    /// Stamps `file` on this node and every node below it.
    pub fn set_file(&mut self, file: u32) {
        self.file = file;
        match &mut self.value {
            Value::Seq(items) => items.iter_mut().for_each(|n| n.set_file(file)),
            Value::Map(entries) => entries.iter_mut().for_each(|(k, v)| {
                k.set_file(file);
                v.set_file(file);
            }),
            _ => {}
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self.value, Value::Null)
    }

    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(s) => Some(s),
            _ => None,
        }
    }

    /// The value of `key` in a mapping (the last entry, should a key repeat).
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?
            .iter()
            .rev()
            .find(|(k, _)| k.scalar_string().as_deref() == Some(key))
            .map(|(_, v)| v)
    }

    /// A scalar as compose sees it in a string context: numbers and booleans in their
    /// canonical text (`3000`, `true`), null as None, collections as None.
    pub fn scalar_string(&self) -> Option<String> {
        match &self.value {
            Value::Str { value, .. } => Some(value.clone()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Int(i) => Some(i.to_string()),
            Value::Float(f) => Some(format_float(*f)),
            Value::Null | Value::Seq(_) | Value::Map(_) => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str { value, .. } => Some(value),
            _ => None,
        }
    }

    /// The text as written (before interpolation) for strings, else the scalar text.
    pub fn raw_string(&self) -> Option<String> {
        match &self.value {
            Value::Str { value, raw } => Some(raw.clone().unwrap_or_else(|| value.clone())),
            _ => self.scalar_string(),
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match &self.value {
            Value::Bool(b) => Some(*b),
            Value::Str { value, .. } => match value.as_str() {
                "true" | "True" | "TRUE" => Some(true),
                "false" | "False" | "FALSE" => Some(false),
                _ => None,
            },
            _ => None,
        }
    }

    /// What kind of value this is, for messages ("a mapping", "a number").
    pub fn kind_name(&self) -> &'static str {
        match &self.value {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Int(_) | Value::Float(_) => "a number",
            Value::Str { .. } => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }
}

/// Floats the way Go's `%v` prints them for ordinary values (`1.5`, `2`): what compose
/// writes into the environment when a value is an unquoted float.
fn format_float(f: f64) -> String {
    if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}

/// The YAML as deserialized: a spanned, tagged tree. `Spanned` wraps `Tagged` so the span is
/// the node's own (a tag does not move it).
struct Raw(Value);

impl<'de> Deserialize<'de> for Raw {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(RawVisitor).map(Raw)
    }
}

fn to_node(spanned: Spanned<Tagged<Raw>>) -> Node {
    let loc = spanned.referenced;
    let Tagged(Raw(value), tag) = spanned.value;
    Node {
        value,
        line: u32::try_from(loc.line()).unwrap_or(u32::MAX),
        column: u32::try_from(loc.column()).unwrap_or(u32::MAX),
        file: 0,
        // Core tags (`!!str`, …) are already applied to the value; keep application tags.
        tag: tag.filter(|t| !t.starts_with("tag:yaml.org,2002:")),
    }
}

struct RawVisitor;

impl<'de> Visitor<'de> for RawVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(RawVisitor)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v.into()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Int(v.into()))
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Value, E> {
        Ok(Value::Int(v))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Value, E> {
        Ok(i128::try_from(v).map_or_else(|_| str_value(v.to_string()), Value::Int))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(str_value(v.to_string()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(str_value(v))
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Value, E> {
        Ok(str_value(String::from_utf8_lossy(v).into_owned()))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Spanned<Tagged<Raw>>>()? {
            items.push(to_node(item));
        }
        Ok(Value::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Spanned<Tagged<Raw>>>()? {
            let value = map.next_value::<Spanned<Tagged<Raw>>>()?;
            entries.push((to_node(key), to_node(value)));
        }
        Ok(Value::Map(entries))
    }
}

fn str_value(value: String) -> Value {
    Value::Str { value, raw: None }
}

/// Resource limits. Real compose files are a few hundred nodes; these bound memory and time
/// on hostile input (an alias bomb expands 9^9 nodes if replayed eagerly).
const MAX_NODES: usize = 200_000;
const MAX_REPLAYED_EVENTS: usize = 100_000;
const MAX_DEPTH: usize = 64;

/// Why a text is not a usable YAML document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    pub line: Option<u32>,
    pub column: Option<u32>,
    pub message: String,
}

fn options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_nodes: MAX_NODES,
            max_depth: MAX_DEPTH,
        },
        alias_limits: serde_saphyr::alias_limits! {
            max_total_replayed_events: MAX_REPLAYED_EVENTS,
        },
        // Compose (go-yaml v3) reads `yes`/`on` as strings, not booleans.
        strict_booleans: true,
        // Duplicate keys: compose (go-yaml v3) refuses them ("mapping key already defined").
        duplicate_keys: serde_saphyr::DuplicateKeyPolicy::Error,
        with_snippet: false,
    }
}

/// Parses every document of `text` (compose merges the documents of one file in order, like
/// several `-f` files). Empty documents are skipped.
pub fn parse_documents(text: &str) -> Result<Vec<Node>, YamlError> {
    let docs: Vec<Spanned<Tagged<Raw>>> =
        serde_saphyr::from_multiple_with_options(text, options()).map_err(yaml_error)?;
    Ok(docs.into_iter().map(to_node).collect())
}

fn yaml_error(e: serde_saphyr::Error) -> YamlError {
    let (line, column) = match e.location() {
        Some(loc) if loc.line() > 0 => (
            u32::try_from(loc.line()).ok(),
            u32::try_from(loc.column()).ok(),
        ),
        _ => (None, None),
    };
    let mut message = e.to_string();
    // serde-saphyr prefixes "error: line L column C: "; the CliError carries the position.
    if let Some(rest) = message.strip_prefix("error: ") {
        message = rest.to_string();
    }
    if let (Some(l), Some(c)) = (line, column) {
        let prefix = format!("line {l} column {c}: ");
        if let Some(rest) = message.strip_prefix(&prefix) {
            message = rest.to_string();
        }
    }
    message = message
        .lines()
        .next()
        .unwrap_or_default()
        .trim()
        .to_string();
    // The position is carried separately; drop serde-saphyr's trailing " at line L, column C…".
    if let Some(i) = message.find(" at line ") {
        message.truncate(i);
    }
    YamlError {
        line,
        column,
        message: friendly(&message),
    }
}

/// serde-saphyr's wording for the limits and refusals a user may meet, said plainly.
fn friendly(message: &str) -> String {
    let lower = message.to_ascii_lowercase();
    if lower.contains("alias") && (lower.contains("limit") || lower.contains("budget")) {
        format!("excessive aliasing (a YAML alias bomb?): {message}")
    } else if lower.contains("budget breached: depth") {
        format!("nested more than {MAX_DEPTH} levels deep")
    } else if lower.contains("budget breached") {
        format!("the document is too large or complex to read ({message})")
    } else if lower.contains("recursive references") {
        "an alias refers to a node that contains it (a cycle; compose refuses it)".into()
    } else if let Some(rest) = message.strip_prefix("duplicate mapping key: ") {
        let key = rest.split(", set ").next().unwrap_or(rest);
        format!("duplicate key `{key}` (compose refuses duplicate keys)")
    } else {
        message.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Node {
        let mut docs = parse_documents(text).expect("parses");
        assert_eq!(docs.len(), 1);
        docs.remove(0)
    }

    #[test]
    fn spans_on_keys_and_values() {
        let root = one("services:\n  app:\n    image: redis:7\n    ports: [\"6379\"]\n");
        let app = root.get("services").and_then(|s| s.get("app")).unwrap();
        let image = app.get("image").unwrap();
        assert_eq!(image.as_str(), Some("redis:7"));
        assert_eq!((image.line, image.column), (3, 12));
        let (key, _) = &app.as_map().unwrap()[1];
        assert_eq!((key.line, key.column), (4, 5));
    }

    #[test]
    fn merge_keys_point_at_the_use_site_and_local_keys_win() {
        let root = one(
            "x-a: &a\n  A: 1\n  B: from-a\nx-b: &b\n  C: 3\nsvc:\n  <<: [*a, *b]\n  B: local\n",
        );
        let svc = root.get("svc").unwrap();
        assert_eq!(svc.get("B").unwrap().as_str(), Some("local"));
        let a = svc.get("A").unwrap();
        assert_eq!(a.scalar_string().as_deref(), Some("1"));
        assert_eq!(a.line, 7, "merged values are located at the `<<` line");
        assert_eq!(svc.get("C").unwrap().line, 7);
    }

    #[test]
    fn tags_are_kept() {
        let root = one("a: !reset []\nb: !override\n  x: 1\nc: !!str 5\n");
        assert_eq!(root.get("a").unwrap().tag.as_deref(), Some("!reset"));
        assert_eq!(root.get("b").unwrap().tag.as_deref(), Some("!override"));
        let c = root.get("c").unwrap();
        assert_eq!(c.tag, None);
        assert_eq!(c.as_str(), Some("5"));
    }

    #[test]
    fn compose_scalars() {
        let root = one("a: yes\nb: true\nc: 80:80\nd: 1.5\ne: ~\n");
        assert_eq!(root.get("a").unwrap().as_str(), Some("yes"));
        assert_eq!(root.get("b").unwrap().value, Value::Bool(true));
        assert_eq!(root.get("c").unwrap().as_str(), Some("80:80"));
        assert_eq!(
            root.get("d").unwrap().scalar_string().as_deref(),
            Some("1.5")
        );
        assert!(root.get("e").unwrap().is_null());
    }

    #[test]
    fn syntax_errors_have_a_position() {
        let e = parse_documents("a:\n  - b\n c: d\n").unwrap_err();
        assert!(e.line.is_some(), "{e:?}");
    }

    #[test]
    fn alias_bomb_is_refused_quickly() {
        let mut text = String::from(
            "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
        );
        let names = ["b", "c", "d", "e", "f", "g", "h", "i"];
        let mut prev = "a";
        for n in names {
            text.push_str(&format!("{n}: &{n} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"));
            prev = n;
        }
        let started = std::time::Instant::now();
        let e = parse_documents(&text).unwrap_err();
        assert!(e.message.contains("alias"), "{e:?}");
        assert!(started.elapsed().as_secs() < 5);
    }
}
