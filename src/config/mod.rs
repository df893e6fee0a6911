//! Reading a deployment from files: `.env` (dotenv), compose files (compose, yaml),
//! `${VAR}` interpolation, Redis URLs, and the meaning of it all (app and Redis semantics).

pub mod compose;
pub mod dotenv;
pub mod interpolate;
pub mod kube;
pub mod load;
pub mod model;
pub mod proxy;
pub mod redis_server;
pub mod redis_url;
pub mod requirements;
#[cfg(test)]
pub(crate) mod test_support;
pub mod yaml;

pub use load::{DeploymentSource, load_deployment};
pub use model::*;

use crate::report::InlineIgnore;

/// The marker of an inline suppression: `# wsdoctor: ignore=ID[,ID…] -- reason`.
const IGNORE_MARKER: &str = "wsdoctor: ignore=";

/// Finds every inline suppression comment in a file's text. Works for .env and YAML alike:
/// both use `#` comments, and the marker is unlikely inside a value.
pub fn scan_ignores(file: &str, text: &str) -> Vec<InlineIgnore> {
    let mut found = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let Some(hash) = line.find('#') else { continue };
        let comment = line[hash + 1..].trim_start();
        let Some(rest) = comment.strip_prefix(IGNORE_MARKER) else {
            // The marker may follow other comment text on the line.
            if let Some(pos) = line.find(&format!("# {IGNORE_MARKER}")) {
                found.extend(parse_ignore(
                    file,
                    i,
                    &line[pos + 2 + IGNORE_MARKER.len()..],
                ));
            }
            continue;
        };
        found.extend(parse_ignore(file, i, rest));
    }
    found
}

fn parse_ignore(file: &str, index: usize, rest: &str) -> Option<InlineIgnore> {
    let (ids, reason) = match rest.split_once("--") {
        Some((ids, reason)) => (
            ids,
            Some(reason.trim().to_string()).filter(|r| !r.is_empty()),
        ),
        None => (rest, None),
    };
    let ids: Vec<String> = ids
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    if ids.is_empty() {
        return None;
    }
    Some(InlineIgnore {
        file: file.to_string(),
        line: u32::try_from(index + 1).unwrap_or(u32::MAX),
        ids,
        reason,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_inline_ignores_with_and_without_reason() {
        let text = "A=1\nREDIS_URL=redis://localhost # wsdoctor: ignore=config.redis-url-loopback -- host network\n# wsdoctor: ignore=config.redis-timeout,config.redis-maxclients\n";
        let found = scan_ignores(".env", text);
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].line, 2);
        assert_eq!(found[0].ids, vec!["config.redis-url-loopback"]);
        assert_eq!(found[0].reason.as_deref(), Some("host network"));
        assert_eq!(found[1].line, 3);
        assert_eq!(found[1].ids.len(), 2);
        assert_eq!(found[1].reason, None);
    }
}
