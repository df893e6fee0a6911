//! Understanding a REDIS_URL the way the clients do.
//!
//! The grammar is the one redis-py (`redis.from_url`, used by python-socketio and Open WebUI)
//! and the Node clients accept: `redis://[[user]:password@]host[:port][/db][?db=N]`,
//! `rediss://` (TLS), `unix:///path?db=N`, `redis+unix://`, `valkey(s)://`. Parsing goes
//! through the `url` crate (WHATWG rules, like Node's `new URL`); what the crate cannot tell
//! us — the tell-tale of a password with an unencoded `#`, `/`, `?` or `@` — is worked out
//! from the raw text, because that mistake silently changes the host the client connects to.

use percent_encoding::{AsciiSet, CONTROLS, percent_decode_str, utf8_percent_encode};

/// Characters that must be percent-encoded inside the password of a URL's userinfo.
const USERINFO: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b':')
    .add(b';')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'@')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

pub const DEFAULT_PORT: u16 = 6379;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Redis,
    /// `rediss://` / `valkeys://`: TLS.
    Rediss,
    /// `unix://` / `redis+unix://`: a socket file.
    Unix,
    /// `redis+sentinel://` style: hosts are sentinels.
    Sentinel,
}

/// A REDIS_URL, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisUrl {
    pub scheme: Scheme,
    pub scheme_text: String,
    pub username: Option<String>,
    /// Percent-decoded.
    pub password: Option<String>,
    /// Empty for unix sockets.
    pub host: String,
    pub port: u16,
    pub port_given: bool,
    /// The database index, from the path or `?db=`; None when not given (the client uses 0).
    pub db: Option<u32>,
    pub socket_path: Option<String>,
}

impl RedisUrl {
    /// The URL with the password masked.
    pub fn display_redacted(&self) -> String {
        self.render(Some(crate::redact::MASK))
    }

    /// The URL as a client would use it (password percent-encoded). Reports are redacted
    /// before rendering, so this may go into a message or a hint.
    pub fn display(&self) -> String {
        self.render(None)
    }

    fn render(&self, mask: Option<&str>) -> String {
        let password = self.password.as_ref().map(|p| match mask {
            Some(m) => m.to_string(),
            None => utf8_percent_encode(p, USERINFO).to_string(),
        });
        let auth = match (&self.username, &password) {
            (Some(u), Some(p)) => format!("{u}:{p}@"),
            (None, Some(p)) => format!(":{p}@"),
            (Some(u), None) => format!("{u}@"),
            (None, None) => String::new(),
        };
        let db = self.db.map(|d| format!("/{d}")).unwrap_or_default();
        match self.scheme {
            Scheme::Unix => format!(
                "{}://{}{}",
                self.scheme_text,
                self.socket_path.as_deref().unwrap_or(""),
                self.db.map(|d| format!("?db={d}")).unwrap_or_default()
            ),
            _ => format!(
                "{}://{auth}{}:{}{db}",
                self.scheme_text, self.host, self.port
            ),
        }
    }
}

/// Why a REDIS_URL cannot be used as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedisUrlError {
    Empty,
    /// Not `redis://`-like: e.g. `redis:6379` or `http://…`.
    Scheme(String),
    /// The URL does not parse at all (message from the parser, no secret in it).
    Malformed(String),
    NoHost,
    Port(String),
    Db(String),
}

impl std::fmt::Display for RedisUrlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RedisUrlError::Empty => write!(f, "the URL is empty"),
            RedisUrlError::Scheme(s) if s.is_empty() => write!(
                f,
                "no scheme: a Redis URL starts with redis://, rediss:// or unix://"
            ),
            RedisUrlError::Scheme(s) => write!(
                f,
                "scheme '{s}' is not one Redis clients accept (redis://, rediss://, unix://)"
            ),
            RedisUrlError::Malformed(m) => write!(f, "the URL does not parse: {m}"),
            RedisUrlError::NoHost => write!(f, "the URL has no host"),
            RedisUrlError::Port(p) => write!(f, "port '{p}' is not a number from 1 to 65535"),
            RedisUrlError::Db(d) => write!(f, "database '{d}' is not a number"),
        }
    }
}

/// A password with characters that end the userinfo early: what the user wrote vs what
/// the client reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnencodedPassword {
    /// The reserved characters found in the password, in order of first appearance.
    pub characters: Vec<char>,
    /// The host the user meant (after the last `@`).
    pub intended_host: String,
    /// The host a standard parser (redis-py's urlparse, Node's URL) reads instead, if any.
    pub parsed_host: Option<String>,
    /// Only `@` is unencoded: redis-py and Node split at the last `@` and work, redis-cli
    /// splits at the first and fails. A warning, not a broken URL.
    pub only_at: bool,
    /// The same URL with the password percent-encoded.
    pub encoded: String,
    /// The password as the user meant it (for secret registration).
    pub password: String,
}

fn scheme_of(text: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = text.split_once("://")?;
    Some((scheme, rest))
}

fn classify_scheme(s: &str) -> Option<Scheme> {
    match s.to_ascii_lowercase().as_str() {
        "redis" | "valkey" => Some(Scheme::Redis),
        "rediss" | "valkeys" => Some(Scheme::Rediss),
        "unix" | "redis+unix" | "redis+socket" | "valkey+unix" => Some(Scheme::Unix),
        "redis+sentinel" | "sentinel" | "rediss+sentinel" => Some(Scheme::Sentinel),
        _ => None,
    }
}

/// Finds a password whose reserved characters break the URL. Looks at the raw text: the
/// userinfo the user meant runs to the *last* `@` before the host.
pub fn find_unencoded_password(text: &str) -> Option<UnencodedPassword> {
    let (scheme, rest) = scheme_of(text.trim())?;
    let at = rest.rfind('@')?;
    let userinfo = &rest[..at];
    let after = &rest[at + 1..];
    // An '@' inside the path or query of a well-formed URL is not a password problem.
    if after.contains(['@']) {
        return None;
    }
    let (user, password) = match userinfo.split_once(':') {
        Some((u, p)) => (u, p),
        None => return None,
    };
    let mut characters = Vec::new();
    for c in password.chars() {
        if matches!(c, '#' | '/' | '?' | '@') && !characters.contains(&c) {
            characters.push(c);
        }
    }
    // A '%' not followed by two hex digits: percent-decoding garbles the password.
    let bytes = password.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        let escaped = bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
            && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit);
        if *b == b'%' && !escaped && !characters.contains(&'%') {
            characters.push('%');
        }
    }
    if characters.is_empty() {
        return None;
    }
    let intended_host = after
        .split(['/', '?', '#'])
        .next()
        .unwrap_or("")
        .rsplit_once(':')
        .map_or_else(
            || {
                after
                    .split(['/', '?', '#'])
                    .next()
                    .unwrap_or("")
                    .to_string()
            },
            |(h, _)| h.to_string(),
        );
    let only_at = characters == ['@'];
    // What a standard parser reads: the authority ends at the first '/', '?' or '#', and the
    // host follows the last '@' inside it.
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let parsed_host = authority
        .rsplit_once('@')
        .map(|(_, hp)| hp)
        .or(Some(authority))
        .map(|hp| {
            hp.rsplit_once(':')
                .map_or(hp, |(h, port)| {
                    if port.chars().all(|c| c.is_ascii_digit()) {
                        h
                    } else {
                        hp
                    }
                })
                .to_string()
        })
        .filter(|h| !h.is_empty() && !h.starts_with(':'));
    let decoded = percent_decode_str(password).decode_utf8_lossy().to_string();
    let to_encode = if characters.contains(&'%') {
        password.to_string()
    } else {
        decoded.clone()
    };
    let encoded = format!(
        "{scheme}://{user}:{}@{after}",
        utf8_percent_encode(&to_encode, USERINFO)
    );
    Some(UnencodedPassword {
        characters,
        intended_host,
        parsed_host,
        only_at,
        encoded,
        password: decoded,
    })
}

/// Parses a REDIS_URL as the clients do.
pub fn parse(text: &str) -> Result<RedisUrl, RedisUrlError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(RedisUrlError::Empty);
    }
    let Some((scheme_text, _)) = scheme_of(text) else {
        return Err(RedisUrlError::Scheme(String::new()));
    };
    let Some(scheme) = classify_scheme(scheme_text) else {
        return Err(RedisUrlError::Scheme(scheme_text.to_string()));
    };
    let url = url::Url::parse(text).map_err(|e| RedisUrlError::Malformed(e.to_string()))?;
    let query_db = url
        .query_pairs()
        .find(|(k, _)| k == "db")
        .map(|(_, v)| v.to_string());
    let parse_db = |d: &str| -> Result<u32, RedisUrlError> {
        d.parse::<u32>()
            .map_err(|_| RedisUrlError::Db(d.to_string()))
    };
    let username = Some(url.username())
        .filter(|u| !u.is_empty())
        .map(|u| percent_decode_str(u).decode_utf8_lossy().to_string());
    let password = url
        .password()
        .map(|p| percent_decode_str(p).decode_utf8_lossy().to_string());
    if scheme == Scheme::Unix {
        let path = url.path().to_string();
        let db = query_db.as_deref().map(parse_db).transpose()?;
        return Ok(RedisUrl {
            scheme,
            scheme_text: scheme_text.to_string(),
            username,
            password,
            host: String::new(),
            port: 0,
            port_given: false,
            db,
            socket_path: Some(path),
        });
    }
    let host = url
        .host_str()
        .map(|h| h.trim_start_matches('[').trim_end_matches(']').to_string())
        .filter(|h| !h.is_empty())
        .ok_or(RedisUrlError::NoHost)?;
    let port_given = url.port().is_some();
    let port = url.port().unwrap_or(DEFAULT_PORT);
    if port == 0 {
        return Err(RedisUrlError::Port("0".to_string()));
    }
    let path = url.path().trim_start_matches('/');
    let db = if !path.is_empty() {
        Some(parse_db(path)?)
    } else {
        query_db.as_deref().map(parse_db).transpose()?
    };
    Ok(RedisUrl {
        scheme,
        scheme_text: scheme_text.to_string(),
        username,
        password,
        host,
        port,
        port_given,
        db,
        socket_path: None,
    })
}

/// Whether a host means "this container" when used inside one.
pub fn is_loopback(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    h.eq_ignore_ascii_case("localhost")
        || h.starts_with("127.")
        || h == "::1"
        || h == "0.0.0.0"
        || h.eq_ignore_ascii_case("localhost.localdomain")
}

/// Whether a host is an IP address or a dotted name: something outside the compose project
/// rather than a (mistyped) service name.
pub fn looks_external(host: &str) -> bool {
    host.parse::<std::net::IpAddr>().is_ok() || host.contains('.')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_common_forms() {
        let u = parse("redis://:s3cret@redis:6379/2").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.db, u.password.as_deref()),
            ("redis", 6379, Some(2), Some("s3cret"))
        );
        let u = parse("redis://default:s3cret@cache").unwrap();
        assert_eq!(u.username.as_deref(), Some("default"));
        assert_eq!((u.port, u.port_given, u.db), (6379, false, None));
        let u = parse("rediss://cache.example:6380?db=3").unwrap();
        assert_eq!((u.scheme, u.db), (Scheme::Rediss, Some(3)));
        let u = parse("unix:///run/redis.sock?db=1").unwrap();
        assert_eq!(u.socket_path.as_deref(), Some("/run/redis.sock"));
        assert_eq!(u.db, Some(1));
        let u = parse("redis://:p%23ss@redis:6379/0").unwrap();
        assert_eq!(u.password.as_deref(), Some("p#ss"));
        assert_eq!(
            u.display_redacted(),
            "redis://:****@redis:6379/0".to_string()
        );
    }

    #[test]
    fn rejects_what_clients_reject() {
        assert_eq!(parse(""), Err(RedisUrlError::Empty));
        assert_eq!(
            parse("redis:6379"),
            Err(RedisUrlError::Scheme(String::new()))
        );
        assert!(matches!(
            parse("http://redis:6379"),
            Err(RedisUrlError::Scheme(_))
        ));
        assert_eq!(
            parse("redis://redis:6379/abc"),
            Err(RedisUrlError::Db("abc".into()))
        );
        assert!(matches!(
            parse("redis://redis:99999"),
            Err(RedisUrlError::Malformed(_))
        ));
    }

    #[test]
    fn finds_the_unencoded_hash_and_the_host_it_produces() {
        // ground-truth.md: redis-py and standard parsers read host `ss`, password `p`.
        let u = find_unencoded_password("redis://:p@ss#w0rd@beagle-redis:6379/0").unwrap();
        assert_eq!(u.characters, vec!['@', '#']);
        assert_eq!(u.intended_host, "beagle-redis");
        assert_eq!(u.parsed_host.as_deref(), Some("ss"));
        assert!(!u.only_at);
        assert_eq!(u.encoded, "redis://:p%40ss%23w0rd@beagle-redis:6379/0");
        assert_eq!(u.password, "p@ss#w0rd");
        assert_eq!(
            parse(&u.encoded).unwrap().password.as_deref(),
            Some("p@ss#w0rd")
        );
    }

    #[test]
    fn an_at_alone_works_in_most_clients() {
        let u = find_unencoded_password("redis://:p@ss@redis:6379").unwrap();
        assert!(u.only_at);
        assert_eq!(u.parsed_host.as_deref(), Some("redis"));
    }

    #[test]
    fn clean_urls_have_no_unencoded_password() {
        for ok in [
            "redis://:s3cret@redis:6379/0",
            "redis://redis:6379",
            "redis://:p%40ss@redis",
            "rediss://user:pw@h.example:6380/1",
        ] {
            assert_eq!(find_unencoded_password(ok), None, "{ok}");
        }
    }

    #[test]
    fn slash_in_password() {
        let u = find_unencoded_password("redis://:ab/cd@redis:6379/0").unwrap();
        assert_eq!(u.characters, vec!['/']);
        assert_eq!(u.intended_host, "redis");
        assert!(parse("redis://:ab/cd@redis:6379/0").is_err() || u.parsed_host.is_some());
    }

    #[test]
    fn loopback_and_external() {
        assert!(is_loopback("localhost"));
        assert!(is_loopback("127.0.0.1"));
        assert!(is_loopback("[::1]"));
        assert!(!is_loopback("redis"));
        assert!(looks_external("10.0.0.5"));
        assert!(looks_external("cache.example.com"));
        assert!(!looks_external("beagle-redis"));
    }
}
