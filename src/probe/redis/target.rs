//! What to probe: a Redis URL understood precisely enough to say what is wrong with it.
//!
//! redis-rs reports every malformed URL as "Redis URL did not parse - InvalidClientConfig"
//! (dependency-notes E3c), so the URL is read here with the `url` crate and our own
//! diagnostics; the probe then connects itself and hands the stream to redis-rs.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

/// What a password must encode inside a URL: everything but RFC 3986's unreserved characters.
const USERINFO: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Where the default ports come from: Redis `port 6379`, Sentinel `port 26379`.
pub const DEFAULT_PORT: u16 = 6379;
pub const DEFAULT_SENTINEL_PORT: u16 = 26379;

/// A host and port as given (a name, an IPv4 address or an IPv6 address without brackets).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPort {
    pub host: String,
    pub port: u16,
}

impl std::fmt::Display for HostPort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

impl HostPort {
    /// Parses `host:port`, `[v6]:port`, or a bare `host` (then `default_port`).
    pub fn parse(text: &str, default_port: u16) -> Result<HostPort, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("empty host".to_string());
        }
        if let Some(rest) = text.strip_prefix('[') {
            let Some((host, after)) = rest.split_once(']') else {
                return Err(format!("'{text}': missing ']' after an IPv6 address"));
            };
            let port = match after.strip_prefix(':') {
                Some(p) => parse_port(p, text)?,
                None if after.is_empty() => default_port,
                None => return Err(format!("'{text}': expected ':PORT' after ']'")),
            };
            return Ok(HostPort {
                host: host.to_string(),
                port,
            });
        }
        match text.rsplit_once(':') {
            Some((host, port)) if !host.contains(':') => {
                if host.is_empty() {
                    return Err(format!("'{text}': empty host"));
                }
                Ok(HostPort {
                    host: host.to_string(),
                    port: parse_port(port, text)?,
                })
            }
            // Several ':' without brackets: a bare IPv6 address.
            Some(_) => Ok(HostPort {
                host: text.to_string(),
                port: default_port,
            }),
            None => Ok(HostPort {
                host: text.to_string(),
                port: default_port,
            }),
        }
    }
}

fn parse_port(p: &str, whole: &str) -> Result<u16, String> {
    match p.parse::<u16>() {
        Ok(0) | Err(_) => Err(format!("'{whole}': '{p}' is not a port (1-65535)")),
        Ok(n) => Ok(n),
    }
}

/// A Sentinel deployment: the sentinels to ask and the master name they know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentinelSpec {
    pub sentinels: Vec<HostPort>,
    pub master: String,
}

/// Everything the probe needs to reach one Redis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisTarget {
    /// Where to connect (for a Sentinel target: the master, once resolved).
    pub addr: HostPort,
    /// `rediss://`: TLS.
    pub tls: bool,
    /// `#insecure` (redis-rs' convention): TLS without certificate verification.
    pub insecure: bool,
    /// ACL user (`redis://user:pass@…`); None means the `default` user.
    pub username: Option<String>,
    pub password: Option<String>,
    pub db: i64,
    pub sentinel: Option<SentinelSpec>,
    /// `--host` replaced the URL's host: the original, for the report.
    pub overridden_from: Option<HostPort>,
}

impl RedisTarget {
    /// The URL as shown in reports: no password, ever.
    pub fn display(&self) -> String {
        self.render(false)
    }

    /// The URL with its password (percent-encoded as a URL needs it): only for
    /// `--show-secrets`, which asks for exactly that.
    pub fn display_with_password(&self) -> String {
        self.render(true)
    }

    fn render(&self, with_password: bool) -> String {
        let scheme = match (self.sentinel.is_some(), self.tls) {
            (true, false) => "redis+sentinel",
            (true, true) => "rediss+sentinel",
            (false, true) => "rediss",
            (false, false) => "redis",
        };
        let password = |p: &str| {
            if with_password {
                utf8_percent_encode(p, USERINFO).to_string()
            } else {
                "****".to_string()
            }
        };
        let user = match (&self.username, &self.password) {
            (Some(u), Some(p)) => format!("{u}:{}@", password(p)),
            (Some(u), None) => format!("{u}@"),
            (None, Some(p)) => format!(":{}@", password(p)),
            (None, None) => String::new(),
        };
        match &self.sentinel {
            Some(s) => {
                let hosts: Vec<String> = s.sentinels.iter().map(|h| h.to_string()).collect();
                format!(
                    "{scheme}://{user}{}/{}/{}",
                    hosts.join(","),
                    s.master,
                    self.db
                )
            }
            None => format!("{scheme}://{user}{}/{}", self.addr, self.db),
        }
    }

    pub fn with_host_override(mut self, addr: HostPort) -> Self {
        self.overridden_from = Some(std::mem::replace(&mut self.addr, addr));
        self
    }
}

/// Why a URL cannot be probed. The message never contains the password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetError(pub String);

impl std::fmt::Display for TargetError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

const RESERVED_HINT: &str = "a '@', '#', '/', '?' or ':' inside the password must be \
     percent-encoded (%40, %23, %2F, %3F, %3A), e.g. redis://:p%40ss@redis:6379/0";

/// Parses a Redis URL: `redis://`, `rediss://`, `valkey://`, `valkeys://`, and the Sentinel
/// forms `redis+sentinel://[user:pass@]host:port[,host:port…]/MASTER[/DB]` (also
/// `sentinel://`, `rediss+sentinel://`).
pub fn parse_url(text: &str) -> Result<RedisTarget, TargetError> {
    let text = text.trim();
    let Some((scheme, rest)) = text.split_once("://") else {
        return Err(TargetError(
            "not a URL: expected redis://[[user]:password@]host[:port][/db]".to_string(),
        ));
    };
    let scheme = scheme.to_ascii_lowercase();
    match scheme.as_str() {
        "redis" | "valkey" => parse_plain(text, false),
        "rediss" | "valkeys" => parse_plain(text, true),
        "redis+sentinel" | "sentinel" => parse_sentinel(rest, false),
        "rediss+sentinel" => parse_sentinel(rest, true),
        "unix" | "redis+unix" | "valkey+unix" => Err(TargetError(format!(
            "{scheme}:// (a unix socket) cannot be probed over the network: give a \
             redis://host:port URL, or --host HOST:PORT"
        ))),
        _ => Err(TargetError(format!(
            "unsupported scheme '{scheme}://': expected redis://, rediss:// or redis+sentinel://"
        ))),
    }
}

fn parse_plain(text: &str, tls: bool) -> Result<RedisTarget, TargetError> {
    let url = url::Url::parse(text)
        .map_err(|e| TargetError(format!("the URL does not parse ({e}); {RESERVED_HINT}")))?;
    // `redis://:p@ss#w0rd@host` parses as host `ss` with a fragment (ground-truth.md): any
    // fragment other than redis-rs' `#insecure` means an unencoded '#' cut the URL.
    let insecure = match url.fragment() {
        None => false,
        Some("insecure") => true,
        Some(_) => {
            return Err(TargetError(format!(
                "the URL contains a '#' after the host part, so everything after it is \
                 ignored (host read as '{}'); {RESERVED_HINT}",
                url.host_str().unwrap_or("")
            )));
        }
    };
    let host = match url.host() {
        Some(url::Host::Domain(d)) => d.to_string(),
        Some(url::Host::Ipv4(a)) => a.to_string(),
        Some(url::Host::Ipv6(a)) => a.to_string(),
        None => return Err(TargetError(format!("the URL has no host; {RESERVED_HINT}"))),
    };
    if host.is_empty() {
        return Err(TargetError(format!(
            "the URL has an empty host; {RESERVED_HINT}"
        )));
    }
    let port = url.port().unwrap_or(DEFAULT_PORT);
    let username = Some(decode(url.username())).filter(|u| !u.is_empty());
    let password = url.password().map(decode);
    let mut db = db_from_path(url.path())?;
    for (k, v) in url.query_pairs() {
        if k == "db" {
            db = v.parse::<i64>().map_err(|_| {
                TargetError(format!(
                    "?db={v}: the database must be a number (0-15 by default)"
                ))
            })?;
        }
    }
    Ok(RedisTarget {
        addr: HostPort { host, port },
        tls,
        insecure,
        username,
        password,
        db,
        sentinel: None,
        overridden_from: None,
    })
}

fn db_from_path(path: &str) -> Result<i64, TargetError> {
    let p = path.trim_matches('/');
    if p.is_empty() {
        return Ok(0);
    }
    p.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
        TargetError(format!(
            "'/{p}' is not a database number: the path of a Redis URL is the db index \
                 (redis://host:6379/0)"
        ))
    })
}

fn decode(s: &str) -> String {
    percent_decode_str(s).decode_utf8_lossy().into_owned()
}

/// `[user:pass@]h1:p1,h2:p2/master[/db]`: hand-parsed because a comma-separated host list
/// is not a URL authority the `url` crate accepts.
fn parse_sentinel(rest: &str, tls: bool) -> Result<RedisTarget, TargetError> {
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, ""),
    };
    // The last '@' ends the userinfo, as in the masking code: a raw '@' in the password
    // still leaves the hosts readable.
    let (userinfo, hosts) = match authority.rfind('@') {
        Some(i) => (Some(&authority[..i]), &authority[i + 1..]),
        None => (None, authority),
    };
    let (username, password) = match userinfo {
        None => (None, None),
        Some(ui) => match ui.split_once(':') {
            Some((u, p)) => (Some(decode(u)).filter(|u| !u.is_empty()), Some(decode(p))),
            None => (Some(decode(ui)).filter(|u| !u.is_empty()), None),
        },
    };
    let mut sentinels = Vec::new();
    for h in hosts.split(',').filter(|h| !h.trim().is_empty()) {
        sentinels.push(
            HostPort::parse(h, DEFAULT_SENTINEL_PORT)
                .map_err(|e| TargetError(format!("sentinel address {e}")))?,
        );
    }
    if sentinels.is_empty() {
        return Err(TargetError(
            "a Sentinel URL needs at least one sentinel: redis+sentinel://host:26379/MASTER"
                .to_string(),
        ));
    }
    let mut parts = path.split('/').filter(|p| !p.is_empty());
    let master = parts.next().map(decode).ok_or_else(|| {
        TargetError(
            "a Sentinel URL needs the master name as its path: \
             redis+sentinel://host:26379/mymaster/0 (or use --master NAME)"
                .to_string(),
        )
    })?;
    let db = match parts.next() {
        Some(d) => db_from_path(d)?,
        None => 0,
    };
    let first = sentinels[0].clone();
    Ok(RedisTarget {
        addr: first,
        tls,
        insecure: false,
        username,
        password,
        db,
        sentinel: Some(SentinelSpec { sentinels, master }),
        overridden_from: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_url_with_password_and_db() {
        let t = parse_url("redis://:s3cret@redis:6380/2").expect("parses");
        assert_eq!(
            t.addr,
            HostPort {
                host: "redis".into(),
                port: 6380
            }
        );
        assert_eq!(t.password.as_deref(), Some("s3cret"));
        assert_eq!(t.username, None);
        assert_eq!(t.db, 2);
        assert!(!t.tls);
        assert_eq!(t.display(), "redis://:****@redis:6380/2");
    }

    #[test]
    fn user_tls_insecure_and_encoded_password() {
        let t = parse_url("rediss://app:p%40ss%23x@cache.example#insecure").expect("parses");
        assert!(t.tls && t.insecure);
        assert_eq!(t.username.as_deref(), Some("app"));
        assert_eq!(t.password.as_deref(), Some("p@ss#x"));
        assert_eq!(t.addr.port, 6379);
        assert!(!t.display().contains("p@ss"));
        // --show-secrets: the URL again, its password encoded so it parses back the same.
        let shown = t.display_with_password();
        assert_eq!(shown, "rediss://app:p%40ss%23x@cache.example:6379/0");
        assert_eq!(
            parse_url(&shown).expect("parses").password.as_deref(),
            Some("p@ss#x")
        );
    }

    #[test]
    fn unencoded_hash_in_password_is_explained() {
        let e = parse_url("redis://:p@ss#w0rd@redis:6379/0").expect_err("must not parse");
        assert!(e.0.contains("percent-encoded"), "{e}");
        assert!(!e.0.contains("w0rd"), "{e}");
        let e = parse_url("redis://:p#ss@redis:6379").expect_err("must not parse");
        assert!(e.0.contains("%23"), "{e}");
    }

    #[test]
    fn bad_db_and_scheme() {
        assert!(parse_url("redis://redis:6379/abc").is_err());
        assert!(parse_url("http://redis:6379").is_err());
        assert!(parse_url("redis:6379").is_err());
        assert_eq!(parse_url("redis://h/?db=3").expect("db query").db, 3);
    }

    #[test]
    fn sentinel_url() {
        let t =
            parse_url("redis+sentinel://:pw@s1:26379,s2,[::1]:26380/mymaster/1").expect("parses");
        let s = t.sentinel.as_ref().expect("sentinel");
        assert_eq!(s.master, "mymaster");
        assert_eq!(s.sentinels.len(), 3);
        assert_eq!(s.sentinels[1].port, 26379);
        assert_eq!(s.sentinels[2].host, "::1");
        assert_eq!(t.db, 1);
        assert_eq!(t.password.as_deref(), Some("pw"));
        assert!(parse_url("redis+sentinel://s1:26379").is_err());
    }

    #[test]
    fn host_port_forms() {
        assert_eq!(HostPort::parse("127.0.0.1:7000", 1).unwrap().port, 7000);
        assert_eq!(HostPort::parse("[::1]:7000", 1).unwrap().host, "::1");
        assert_eq!(HostPort::parse("redis", 6379).unwrap().port, 6379);
        assert!(HostPort::parse("redis:0", 6379).is_err());
        assert!(HostPort::parse("redis:x", 6379).is_err());
        assert!(HostPort::parse("", 6379).is_err());
    }
}
