//! Secrets never reach an output unless `--show-secrets`.
//!
//! Two layers, because either alone leaks: (1) every secret *value* the tool has seen
//! (URL passwords, `*PASSWORD*`/`*TOKEN*`/`*SECRET*` env values, `--requirepass` arguments,
//! `--token`) is registered in [`Secrets`] and replaced wherever it appears, even inside an
//! error message a library formatted; (2) any `scheme://user:password@` in any string is
//! masked structurally, which also covers passwords the tool never registered.

use std::collections::BTreeSet;

use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};

/// What replaces a secret.
pub const MASK: &str = "****";

/// Secrets shorter than this are not replaced by value (a one-letter password would mask
/// every occurrence of that letter); the structural URL masking still hides them in URLs,
/// and env values of secret-named keys are masked by key.
const MIN_SECRET_LEN: usize = 3;

#[derive(Debug, Clone, Default)]
pub struct Secrets {
    values: BTreeSet<String>,
}

/// Env names whose values are secrets: `*PASSWORD*`, `*TOKEN*`, `*SECRET*` (DESIGN.md), and the
/// other spellings real deployments use for the same thing.
pub fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_uppercase();
    const PARTS: [&str; 8] = [
        "PASSWORD",
        "PASSWD",
        "TOKEN",
        "SECRET",
        "API_KEY",
        "APIKEY",
        "PRIVATE_KEY",
        "ACCESS_KEY",
    ];
    PARTS.iter().any(|p| k.contains(p))
        || k.ends_with("_PASS")
        || k == "PASS"
        || k.ends_with("_PWD")
        || k.ends_with("CREDENTIALS")
}

impl Secrets {
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a secret value (and its percent-encoded form, as it appears in URLs).
    pub fn add(&mut self, value: &str) {
        let v = value.trim();
        if v.len() < MIN_SECRET_LEN {
            return;
        }
        self.values.insert(v.to_string());
        let encoded = utf8_percent_encode(v, NON_ALPHANUMERIC).to_string();
        if encoded != v {
            self.values.insert(encoded);
        }
    }

    /// Registers the password of every `scheme://user:password@` in `text`.
    pub fn add_url_passwords(&mut self, text: &str) {
        for (start, end) in url_password_ranges(text) {
            let password = &text[start..end];
            self.add(password);
            // An unencoded `#`, `?`, `/` or `@` splits the password where clients parse the
            // URL: findings quote the pieces (`clients read the host as 'user:pass'`), so
            // each piece is a secret too.
            if password.contains(['#', '?', '/', '@']) {
                for piece in password.split(['#', '?', '/', '@']) {
                    self.add(piece);
                }
            }
            if let Ok(decoded) =
                percent_encoding::percent_decode_str(&text[start..end]).decode_utf8()
            {
                self.add(&decoded);
            }
        }
    }

    pub fn merge(&mut self, other: &Secrets) {
        self.values.extend(other.values.iter().cloned());
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// `text` with every secret masked.
    pub fn redact(&self, text: &str) -> String {
        let mut out = mask_url_passwords(text);
        // Longest first, so a secret that contains another is masked whole.
        let mut values: Vec<&String> = self.values.iter().collect();
        values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        for v in values {
            if out.contains(v.as_str()) {
                out = out.replace(v.as_str(), MASK);
            }
        }
        out
    }
}

/// Byte ranges of the password part of every `scheme://user:password@host` in `text`. The
/// password runs from the first `:` of the userinfo to the *last* `@` of the token, because
/// a password with an unencoded `@` is exactly what users get wrong.
fn url_password_ranges(text: &str) -> Vec<(usize, usize)> {
    let mut ranges = Vec::new();
    let mut search = 0;
    while let Some(rel) = text[search..].find("://") {
        let authority_start = search + rel + 3;
        let token_end = text[authority_start..]
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '`' | '<' | '>'))
            .map_or(text.len(), |i| authority_start + i);
        let token = &text[authority_start..token_end];
        if let Some(at) = token.rfind('@') {
            let userinfo = &token[..at];
            if let Some(colon) = userinfo.find(':') {
                let start = authority_start + colon + 1;
                let end = authority_start + at;
                if end > start {
                    ranges.push((start, end));
                }
            }
        }
        search = authority_start;
    }
    ranges
}

/// `text` with the password of every URL masked (`redis://:****@redis:6379/0`).
pub fn mask_url_passwords(text: &str) -> String {
    let ranges = url_password_ranges(text);
    if ranges.is_empty() {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (start, end) in ranges {
        if start < last {
            continue;
        }
        out.push_str(&text[last..start]);
        out.push_str(MASK);
        last = end;
    }
    out.push_str(&text[last..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_url_password_including_unencoded_at() {
        assert_eq!(
            mask_url_passwords("REDIS_URL=redis://:p@ss#w0rd@redis:6379/0 here"),
            "REDIS_URL=redis://:****@redis:6379/0 here"
        );
        assert_eq!(
            mask_url_passwords("redis://default:s3cret@cache:6379"),
            "redis://default:****@cache:6379"
        );
        assert_eq!(
            mask_url_passwords("redis://redis:6379/0"),
            "redis://redis:6379/0"
        );
    }

    #[test]
    fn masks_registered_values_and_encoded_forms() {
        let mut s = Secrets::new();
        s.add("p@ss#word");
        assert_eq!(s.redact("auth p@ss#word failed"), "auth **** failed");
        assert_eq!(s.redact("x p%40ss%23word y"), "x **** y");
    }

    #[test]
    fn pieces_of_an_unencoded_url_password_are_secrets() {
        // Found by tests/redaction_all.rs: config.redis-url-unencoded quoted the host a
        // client parses, `default:Un3nc`, which is the first half of the password.
        let mut s = Secrets::new();
        s.add_url_passwords("redis://default:Un3nc#0ded-9f2b@redis:6379/0");
        assert_eq!(
            s.redact("clients read the host as 'default:Un3nc' (fragment 0ded-9f2b@redis)"),
            "clients read the host as 'default:****' (fragment ****@redis)"
        );
        assert_eq!(s.redact("Un3nc#0ded-9f2b"), "****");
    }

    #[test]
    fn short_values_are_not_replaced_by_value() {
        let mut s = Secrets::new();
        s.add("ab");
        assert!(s.is_empty());
        assert_eq!(s.redact("redis://:ab@h"), "redis://:****@h");
    }

    #[test]
    fn secret_keys() {
        for k in [
            "REDIS_PASSWORD",
            "WEBUI_SECRET_KEY",
            "GITHUB_TOKEN",
            "OPENAI_API_KEY",
            "DB_PASS",
        ] {
            assert!(is_secret_key(k), "{k}");
        }
        for k in ["REDIS_URL", "UVICORN_WORKERS", "PASSTHROUGH"] {
            assert!(!is_secret_key(k), "{k}");
        }
    }
}
