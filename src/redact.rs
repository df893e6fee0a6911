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
    /// Variable names seen in the deployment: never masked, even when a secret's value is
    /// (or is part of) one of them, because the user must read which variable to fix.
    names: BTreeSet<String>,
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
        || k.ends_with("_KEY")
        || k.ends_with("CREDENTIALS")
}

impl Secrets {
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a secret value (and its percent-encoded form, as it appears in URLs).
    /// A reference to a variable (`$REDIS_PASSWORD`, `${REDIS_PASSWORD}`, as a healthcheck's
    /// `redis-cli -a $$REDIS_PASSWORD` leaves it) is a name, not a secret: masking it would
    /// hide the variable the user must set ("**** is not set").
    pub fn add(&mut self, value: &str) {
        let v = value.trim();
        if v.len() < MIN_SECRET_LEN || is_variable_reference(v) {
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

    /// Registers a variable name: it stays readable wherever it appears.
    pub fn add_name(&mut self, name: &str) {
        if is_identifier(name) {
            self.names.insert(name.to_string());
        }
    }

    /// Registers the values of the secret-named keys of a `.env`-style text, read line by
    /// line without the dotenv parser: a line the parser refuses (an unterminated quote)
    /// still holds a password, and its error message must not show it.
    pub fn add_env_text(&mut self, text: &str) {
        for line in text.lines() {
            let line = line.trim_start();
            let line = line.strip_prefix("export ").unwrap_or(line).trim_start();
            let Some((key, value)) = line.split_once('=') else {
                continue;
            };
            // Any text before `=`: a key compose refuses (`DB_PASSWORD!`) still names a secret.
            let key = key.trim();
            if key.is_empty() {
                continue;
            }
            self.add_name(key);
            let value = value.trim();
            if value.contains("://") {
                self.add_url_passwords(value);
            }
            if !is_secret_key(key) {
                continue;
            }
            self.add(value);
            // Unquoted, and with an unterminated quote: the value the parser would have read
            // and the one its error message would have quoted.
            for quote in ['"', '\''] {
                if let Some(inner) = value.strip_prefix(quote) {
                    self.add(inner);
                    self.add(inner.strip_suffix(quote).unwrap_or(inner));
                    if let Some((before_comment, _)) = inner.split_once(quote) {
                        self.add(before_comment);
                    }
                }
            }
            if let Some((before_comment, _)) = value.split_once(" #") {
                self.add(before_comment);
            }
        }
    }

    pub fn merge(&mut self, other: &Secrets) {
        self.values.extend(other.values.iter().cloned());
        self.names.extend(other.names.iter().cloned());
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// `text` with every secret masked, and every variable name left readable.
    pub fn redact(&self, text: &str) -> String {
        let text = mask_url_passwords(text);
        // Names stay: a match lying inside a registered variable name, or strictly inside
        // a secret-looking identifier (`PASSWORD` in `REDIS_PASSWORD`), is not masked. A
        // match that is a whole identifier not registered as a name is masked: a password
        // may well read `SUPERSECRET`.
        let protected = self.name_ranges(&text);
        // Longest first, so a secret that contains another is masked whole.
        let mut values: Vec<&String> = self.values.iter().collect();
        values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        let mut masked: Vec<(usize, usize)> = Vec::new();
        for v in values {
            for (start, _) in text.match_indices(v.as_str()) {
                let end = start + v.len();
                if protected.iter().any(|&(s, e, registered)| {
                    s <= start && end <= e && (registered || e - s > end - start)
                }) || masked.iter().any(|&(s, e)| start < e && s < end)
                {
                    continue;
                }
                masked.push((start, end));
            }
        }
        if masked.is_empty() {
            return text;
        }
        masked.sort_unstable();
        let mut out = String::with_capacity(text.len());
        let mut last = 0;
        for (start, end) in masked {
            out.push_str(&text[last..start]);
            out.push_str(MASK);
            last = end;
        }
        out.push_str(&text[last..]);
        out
    }

    /// Byte ranges of the identifiers of `text` that are registered variable names (`true`)
    /// or look like secret variable names (`REDIS_PASSWORD`, `WEBUI_SECRET_KEY`).
    fn name_ranges(&self, text: &str) -> Vec<(usize, usize, bool)> {
        let mut out = Vec::new();
        let bytes = text.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i].is_ascii_alphabetic() || bytes[i] == b'_' {
                let start = i;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                let word = &text[start..i];
                let env_style = word
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
                let registered = self.names.contains(word);
                if registered || (env_style && is_secret_key(word)) {
                    out.push((start, i, registered));
                }
            } else {
                i += 1;
            }
        }
        out
    }
}

/// `NAME`: letters, digits and `_`, not starting with a digit.
fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `$NAME` or `${NAME…}`: a reference to a variable, left unexpanded.
fn is_variable_reference(s: &str) -> bool {
    match s.strip_prefix('$') {
        Some(rest) => {
            is_identifier(rest)
                || rest
                    .strip_prefix('{')
                    .and_then(|r| r.strip_suffix('}'))
                    .is_some_and(is_identifier)
        }
        None => false,
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
    fn names_are_never_masked() {
        let mut s = Secrets::new();
        // A healthcheck's `redis-cli -a $$REDIS_PASSWORD` registers no secret.
        s.add("$REDIS_PASSWORD");
        s.add("${REDIS_PASSWORD}");
        assert!(s.is_empty());
        // A value equal to a name, or inside one, leaves the name readable.
        s.add("REDIS_PASSWORD");
        s.add_name("REDIS_PASSWORD");
        s.add("PASSWORD");
        s.add_name("CACHE_PASS");
        s.add("CACHE");
        assert_eq!(
            s.redact("REDIS_PASSWORD is not set; CACHE_PASS is empty; PASSWORD x CACHE"),
            "REDIS_PASSWORD is not set; CACHE_PASS is empty; **** x ****"
        );
        // A password that merely looks like a name is masked, unless it is one.
        s.add("SUPERSECRET");
        assert_eq!(s.redact("auth SUPERSECRET failed"), "auth **** failed");
        // A secret that contains a name is still masked whole.
        s.add("xREDIS_PASSWORDx");
        assert_eq!(s.redact("auth xREDIS_PASSWORDx"), "auth ****");
    }

    #[test]
    fn env_text_secrets_are_registered_even_when_the_line_does_not_parse() {
        let mut s = Secrets::new();
        s.add_env_text(
            "A=1\nREDIS_PASSWORD=\"hunter2-secret\nexport API_TOKEN='tok-123' # c\nX_KEY=plain # c\n",
        );
        let out = s.redact(
            "unterminated quoted value \"hunter2-secret and hunter2-secret, tok-123, plain",
        );
        assert!(!out.contains("hunter2"), "{out}");
        assert!(!out.contains("tok-123"), "{out}");
        assert!(!out.contains("plain"), "{out}");
        assert_eq!(s.redact("REDIS_PASSWORD A"), "REDIS_PASSWORD A");
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
