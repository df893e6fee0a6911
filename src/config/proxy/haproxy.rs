//! `haproxy.cfg`: sections (`global`, `defaults`, `frontend`, `backend`, `listen`), the rules
//! that pick a backend (`use_backend … if <acl>` with `path_beg`/`path` ACLs,
//! `default_backend`), `server` lines, `balance`, `cookie … insert` with the server `cookie`,
//! `stick on`, `timeout client|server|tunnel` with `defaults` inheritance, and path rewrites
//! (`http-request set-path|replace-path|replace-uri`). Every value keeps its file:line.
//!
//! The rules follow the HAProxy 2.6 configuration manual (Debian 12's haproxy 2.6.12):
//! <https://docs.haproxy.org/2.6/configuration.html>. Section numbers are cited where used.

use std::time::Duration;

use super::ProxySyntaxProblem;
use crate::config::model::{Located, Span};

/// The kind of a section header (§2.1 "Configuration file format": a section starts at one
/// of these keywords and runs until the next one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SectionKind {
    Global,
    Defaults,
    Frontend,
    Backend,
    Listen,
    /// `peers`, `resolvers`, `userlist`, `mailers`, `program`, `http-errors`, `ring`, `cache`:
    /// sections with no bearing on routing, kept so their lines are not misread.
    Other,
}

/// One configuration line: its words after unquoting, and where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directive {
    pub words: Vec<String>,
    pub span: Span,
}

impl Directive {
    fn keyword(&self) -> &str {
        self.words.first().map(String::as_str).unwrap_or("")
    }

    fn arg(&self, i: usize) -> Option<&str> {
        self.words.get(i).map(String::as_str)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    pub kind: SectionKind,
    pub name: Option<String>,
    pub span: Span,
    /// Index (in [`HaproxyConfig::sections`]) of the `defaults` section this one takes its
    /// settings from: the one named by `from`, else the last `defaults` above it (§4
    /// "Proxies": "a defaults section … sets default parameters for all other sections
    /// following its declaration").
    pub defaults: Option<usize>,
    pub directives: Vec<Directive>,
}

/// A parsed `haproxy.cfg`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HaproxyConfig {
    pub file: String,
    pub sections: Vec<Section>,
    pub errors: Vec<ProxySyntaxProblem>,
}

/// What part of the request path a routing rule needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathMatch {
    /// `path_beg` (§7.3.6 "path_beg : prefix match").
    Prefix(String),
    /// `path` (exact match).
    Exact(String),
}

impl PathMatch {
    pub fn matches(&self, path: &str) -> bool {
        match self {
            PathMatch::Prefix(p) => path.starts_with(p.as_str()),
            PathMatch::Exact(p) => path == p,
        }
    }
}

/// One `use_backend NAME if|unless COND` (or `default_backend NAME`) of a frontend/listen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackendRule {
    pub backend: Located<String>,
    /// The path alternatives the condition accepts (any of them). Empty with
    /// `path_condition == false`: the rule does not look at the path.
    pub paths: Vec<PathMatch>,
    /// The condition tests the path (else `paths` is empty and the rule takes any path, or
    /// depends only on things other than the path, e.g. a Host or Upgrade header).
    pub path_condition: bool,
    /// The condition also tests something other than the path (a header, a negation...).
    pub other_condition: bool,
    /// `default_backend`: taken when no `use_backend` rule matched.
    pub default: bool,
}

impl BackendRule {
    /// Whether a request for `path` may take this rule.
    pub fn may_match(&self, path: &str) -> bool {
        !self.path_condition || self.paths.iter().any(|p| p.matches(path))
    }
}

/// One `server NAME ADDRESS[:PORT] [params]` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    pub name: String,
    pub host: String,
    pub port: Option<u16>,
    /// The `cookie VALUE` parameter (§5.2): the value `cookie NAME insert` writes for it.
    pub cookie: Option<String>,
    pub span: Span,
}

/// A backend (or listen) as HAProxy uses it: its own lines over its `defaults`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backend {
    pub name: String,
    pub span: Span,
    pub servers: Vec<Server>,
    /// `balance ALGO` (§4.2 "balance"): `source`, `uri`, `hdr(...)` … keep a client on one
    /// server; `roundrobin` (the default when unset), `leastconn`, `static-rr`, `first`,
    /// `random` do not.
    pub balance: Option<Located<String>>,
    /// `cookie NAME insert|prefix|rewrite` (§4.2 "cookie"): cookie-based persistence, in
    /// effect only for servers with a `cookie` value.
    pub cookie: Option<Located<String>>,
    /// `stick on` / `stick match` with a `stick-table` (§4.2 "stick on"): persistence.
    pub stick: Option<Span>,
    /// `timeout server` (§4.2): the longest the server may stay silent, which includes the
    /// wait for a long-poll response.
    pub timeout_server: Option<Located<Duration>>,
    /// `timeout tunnel` (§4.2): once the connection is upgraded (WebSocket) it replaces
    /// `timeout client` and `timeout server` in both directions.
    pub timeout_tunnel: Option<Located<Duration>>,
    /// `http-request set-path|replace-path|replace-uri|set-uri|set-pathq` lines.
    pub rewrites: Vec<Located<String>>,
}

/// A frontend (or listen) with its rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frontend {
    pub name: String,
    pub span: Span,
    /// `use_backend` rules in order, then `default_backend` last (§4.2 "use_backend": the
    /// first rule whose condition matches wins, else the default backend). A `listen`
    /// without either uses its own servers: a rule naming the listen itself.
    pub rules: Vec<BackendRule>,
    /// `timeout client` (§4.2): the longest the client may stay silent.
    pub timeout_client: Option<Located<Duration>>,
    pub rewrites: Vec<Located<String>>,
    /// `mode tcp`: the frontend does not look at HTTP at all.
    pub tcp_mode: bool,
}

const SECTION_KEYWORDS: &[(&str, SectionKind)] = &[
    ("global", SectionKind::Global),
    ("defaults", SectionKind::Defaults),
    ("frontend", SectionKind::Frontend),
    ("backend", SectionKind::Backend),
    ("listen", SectionKind::Listen),
    ("peers", SectionKind::Other),
    ("resolvers", SectionKind::Other),
    ("userlist", SectionKind::Other),
    ("mailers", SectionKind::Other),
    ("program", SectionKind::Other),
    ("http-errors", SectionKind::Other),
    ("ring", SectionKind::Other),
    ("cache", SectionKind::Other),
    ("fcgi-app", SectionKind::Other),
    ("crt-store", SectionKind::Other),
    ("traces", SectionKind::Other),
];

/// Splits one line into words (§2.2 "Quoting and escaping": spaces separate words, `\`
/// escapes the next character, `"…"` weak and `'…'` strong quoting, `#` outside quotes
/// starts a comment). Returns the words and, for an unterminated quote, an error message.
fn split_words(line: &str) -> (Vec<String>, Option<String>) {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = line.chars().peekable();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        match quote {
            Some(q) => {
                if c == q {
                    quote = None;
                } else if c == '\\' && q == '"' {
                    if let Some(n) = chars.next() {
                        cur.push(n);
                    }
                } else {
                    cur.push(c);
                }
            }
            None => match c {
                ' ' | '\t' | '\r' => {
                    if in_word {
                        words.push(std::mem::take(&mut cur));
                        in_word = false;
                    }
                }
                '#' => break,
                '\\' => {
                    in_word = true;
                    if let Some(n) = chars.next() {
                        cur.push(n);
                    }
                }
                '"' | '\'' => {
                    in_word = true;
                    quote = Some(c);
                }
                _ => {
                    in_word = true;
                    cur.push(c);
                }
            },
        }
    }
    if in_word {
        words.push(cur);
    }
    let err = quote.map(|q| format!("unmatched quote ({q}): the line ends inside a quoted word"));
    (words, err)
}

/// An HAProxy time value (§2.5 "Time format": a number with an optional unit `us`, `ms`,
/// `s`, `m`, `h`, `d`; **without a unit the number is in milliseconds**).
pub fn parse_time(text: &str) -> Option<Duration> {
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    let n: u64 = text[..digits].parse().ok()?;
    let d = match &text[digits..] {
        "" | "ms" => Duration::from_millis(n),
        "us" => Duration::from_micros(n),
        "s" => Duration::from_secs(n),
        "m" => Duration::from_secs(n.checked_mul(60)?),
        "h" => Duration::from_secs(n.checked_mul(3600)?),
        "d" => Duration::from_secs(n.checked_mul(86_400)?),
        _ => return None,
    };
    Some(d)
}

/// Reads `haproxy.cfg` text. Never fails: what HAProxy would refuse (`haproxy -c`) is
/// listed in `errors` with its line.
pub fn parse(file: &str, text: &str) -> HaproxyConfig {
    let mut cfg = HaproxyConfig {
        file: file.to_string(),
        ..Default::default()
    };
    let mut last_defaults: Option<usize> = None;
    for (i, raw) in text.lines().enumerate() {
        let line = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let column = raw.len() - raw.trim_start().len() + 1;
        let span = Span::new(file, line, u32::try_from(column).unwrap_or(1));
        let (words, err) = split_words(raw);
        if let Some(message) = err {
            cfg.errors.push(ProxySyntaxProblem {
                span: span.clone(),
                message,
            });
        }
        let Some(first) = words.first() else { continue };
        if let Some(&(_, kind)) = SECTION_KEYWORDS.iter().find(|(k, _)| *k == first.as_str()) {
            let name = words.get(1).filter(|w| w.as_str() != "from").cloned();
            if matches!(
                kind,
                SectionKind::Frontend | SectionKind::Backend | SectionKind::Listen
            ) && name.is_none()
            {
                cfg.errors.push(ProxySyntaxProblem {
                    span: span.clone(),
                    message: format!("`{first}` needs a name"),
                });
            }
            // `defaults NAME from OTHER` / `backend NAME from DEFAULTS` (HAProxy 2.4+).
            let from = words
                .iter()
                .position(|w| w == "from")
                .and_then(|p| words.get(p + 1));
            let defaults = match from {
                Some(named) => {
                    let found = cfg.sections.iter().rposition(|s| {
                        s.kind == SectionKind::Defaults && s.name.as_deref() == Some(named)
                    });
                    if found.is_none() {
                        cfg.errors.push(ProxySyntaxProblem {
                            span: span.clone(),
                            message: format!("no `defaults {named}` section above this line"),
                        });
                    }
                    found
                }
                None if kind == SectionKind::Defaults => None,
                None => last_defaults,
            };
            cfg.sections.push(Section {
                kind,
                name,
                span,
                defaults,
                directives: Vec::new(),
            });
            if kind == SectionKind::Defaults {
                last_defaults = Some(cfg.sections.len() - 1);
            }
            continue;
        }
        match cfg.sections.last_mut() {
            Some(section) => section.directives.push(Directive { words, span }),
            None => cfg.errors.push(ProxySyntaxProblem {
                span,
                message: format!(
                    "`{first}` is outside any section (global, defaults, frontend, backend, listen)"
                ),
            }),
        }
    }
    cfg.validate();
    cfg
}

impl HaproxyConfig {
    /// What `haproxy -c` refuses among the lines this reader understands.
    fn validate(&mut self) {
        let mut errors = Vec::new();
        for s in &self.sections {
            for d in &s.directives {
                match d.keyword() {
                    "timeout" => match (d.arg(1), d.arg(2)) {
                        (Some(_), Some(v)) if parse_time(v).is_some() => {}
                        (Some(kind), Some(v)) => errors.push(ProxySyntaxProblem {
                            span: d.span.clone(),
                            message: format!("`timeout {kind} {v}`: not a time (a number with us, ms, s, m, h or d)"),
                        }),
                        _ => errors.push(ProxySyntaxProblem {
                            span: d.span.clone(),
                            message: "`timeout` needs a kind and a time".to_string(),
                        }),
                    },
                    "server" if d.words.len() < 3 => errors.push(ProxySyntaxProblem {
                        span: d.span.clone(),
                        message: "`server` needs a name and an address".to_string(),
                    }),
                    "use_backend" | "default_backend" => {
                        let Some(name) = d.arg(1) else {
                            errors.push(ProxySyntaxProblem {
                                span: d.span.clone(),
                                message: format!("`{}` needs a backend name", d.keyword()),
                            });
                            continue;
                        };
                        // A name with `%[` is a log-format expression resolved per request.
                        if !name.contains("%[") && self.backend_section(name).is_none() {
                            errors.push(ProxySyntaxProblem {
                                span: d.span.clone(),
                                message: format!("`{} {name}`: no backend or listen section is named {name}", d.keyword()),
                            });
                        }
                    }
                    _ => {}
                }
            }
        }
        self.errors.extend(errors);
        self.errors.sort_by_key(|e| e.span.line);
    }

    fn backend_section(&self, name: &str) -> Option<&Section> {
        self.sections.iter().find(|s| {
            matches!(s.kind, SectionKind::Backend | SectionKind::Listen)
                && s.name.as_deref() == Some(name)
        })
    }

    /// The last line of `section` (or of its defaults) whose first words are `prefix`.
    fn lookup<'a>(&'a self, section: &'a Section, prefix: &[&str]) -> Option<&'a Directive> {
        let own = section.directives.iter().rev().find(|d| {
            d.words.len() >= prefix.len() && d.words.iter().zip(prefix).all(|(w, p)| w == p)
        });
        own.or_else(|| {
            let def = section.defaults.and_then(|i| self.sections.get(i))?;
            self.lookup(def, prefix)
        })
    }

    fn timeout(&self, section: &Section, kind: &str) -> Option<Located<Duration>> {
        let d = self.lookup(section, &["timeout", kind])?;
        let t = parse_time(d.arg(2)?)?;
        Some(Located::new(t, Some(d.span.clone())))
    }

    fn rewrites(section: &Section) -> Vec<Located<String>> {
        section
            .directives
            .iter()
            .filter(|d| {
                d.keyword() == "http-request"
                    && matches!(
                        d.arg(1),
                        Some("set-path" | "replace-path" | "replace-uri" | "set-uri" | "set-pathq")
                    )
            })
            .map(|d| Located::new(d.words.join(" "), Some(d.span.clone())))
            .collect()
    }

    /// The frontends and listens, with their backend rules resolved.
    pub fn frontends(&self) -> Vec<Frontend> {
        self.sections
            .iter()
            .filter(|s| matches!(s.kind, SectionKind::Frontend | SectionKind::Listen))
            .map(|s| self.frontend(s))
            .collect()
    }

    fn frontend(&self, s: &Section) -> Frontend {
        let name = s.name.clone().unwrap_or_default();
        // Named ACLs: `acl NAME CRITERION VALUES…` (§7.1); several lines with one name are
        // ORed together.
        let mut acls: Vec<(&str, &Directive)> = Vec::new();
        for d in &s.directives {
            if d.keyword() == "acl"
                && let Some(n) = d.arg(1)
            {
                acls.push((n, d));
            }
        }
        let mut rules = Vec::new();
        for d in &s.directives {
            if d.keyword() != "use_backend" {
                continue;
            }
            let Some(backend) = d.arg(1) else { continue };
            let (paths, path_condition, other_condition) = condition(&d.words[2..], &acls);
            rules.push(BackendRule {
                backend: Located::new(backend.to_string(), Some(d.span.clone())),
                paths,
                path_condition,
                other_condition,
                default: false,
            });
        }
        if let Some(d) = self.lookup(s, &["default_backend"])
            && let Some(backend) = d.arg(1)
        {
            rules.push(BackendRule {
                backend: Located::new(backend.to_string(), Some(d.span.clone())),
                paths: Vec::new(),
                path_condition: false,
                other_condition: false,
                default: true,
            });
        } else if s.kind == SectionKind::Listen {
            // A listen without a default backend serves with its own servers.
            rules.push(BackendRule {
                backend: Located::new(name.clone(), Some(s.span.clone())),
                paths: Vec::new(),
                path_condition: false,
                other_condition: false,
                default: true,
            });
        }
        let tcp_mode = self
            .lookup(s, &["mode"])
            .is_some_and(|d| d.arg(1) == Some("tcp"));
        Frontend {
            name,
            span: s.span.clone(),
            rules,
            timeout_client: self.timeout(s, "client"),
            rewrites: Self::rewrites(s),
            tcp_mode,
        }
    }

    /// The backend (or listen) named `name`, with its defaults applied.
    pub fn backend(&self, name: &str) -> Option<Backend> {
        let s = self.backend_section(name)?;
        let servers = s
            .directives
            .iter()
            .filter(|d| d.keyword() == "server" && d.words.len() >= 3)
            .map(|d| {
                let (host, port) = split_address(&d.words[2]);
                let cookie = d
                    .words
                    .iter()
                    .skip(3)
                    .position(|w| w == "cookie")
                    .and_then(|p| d.words.get(p + 4))
                    .cloned();
                Server {
                    name: d.words[1].clone(),
                    host,
                    port,
                    cookie,
                    span: d.span.clone(),
                }
            })
            .collect();
        let located_line = |d: &Directive| Located::new(d.words.join(" "), Some(d.span.clone()));
        Some(Backend {
            name: name.to_string(),
            span: s.span.clone(),
            servers,
            balance: self.lookup(s, &["balance"]).map(located_line),
            cookie: self.lookup(s, &["cookie"]).map(located_line),
            stick: s
                .directives
                .iter()
                .find(|d| d.keyword() == "stick" && matches!(d.arg(1), Some("on" | "match")))
                .map(|d| d.span.clone()),
            timeout_server: self.timeout(s, "server"),
            timeout_tunnel: self.timeout(s, "tunnel"),
            rewrites: Self::rewrites(s),
        })
    }
}

/// `host:port`, `[v6]:port`, `host` (no port: the client's port is reused).
fn split_address(addr: &str) -> (String, Option<u16>) {
    let addr = addr
        .strip_prefix("ipv4@")
        .or_else(|| addr.strip_prefix("ipv6@"))
        .unwrap_or(addr);
    if let Some(rest) = addr.strip_prefix('[')
        && let Some((host, tail)) = rest.split_once(']')
    {
        return (
            host.to_string(),
            tail.strip_prefix(':').and_then(|p| p.parse().ok()),
        );
    }
    match addr.rsplit_once(':') {
        Some((host, port)) => (host.to_string(), port.parse().ok()),
        None => (addr.to_string(), None),
    }
}

/// Reads an `if|unless` condition (§7.2 "Using ACLs to form conditions": terms ANDed,
/// `||` or `or` separates alternatives, `!` negates, `{ … }` is an anonymous ACL).
/// Returns the path alternatives, whether the path is tested, and whether anything else is.
fn condition(words: &[String], acls: &[(&str, &Directive)]) -> (Vec<PathMatch>, bool, bool) {
    let Some(kw) = words.first() else {
        return (Vec::new(), false, false);
    };
    let unless = kw == "unless";
    if kw != "if" && !unless {
        return (Vec::new(), false, true);
    }
    let mut paths = Vec::new();
    let mut path_condition = false;
    let mut other = unless;
    let mut i = 1;
    while i < words.len() {
        let w = words[i].as_str();
        match w {
            "||" | "or" => {}
            "{" => {
                let end = words[i..]
                    .iter()
                    .position(|x| x == "}")
                    .map_or(words.len(), |p| i + p);
                let inner: Vec<&str> = words[i + 1..end].iter().map(String::as_str).collect();
                match path_matches(&inner) {
                    Some(p) => {
                        path_condition = true;
                        paths.extend(p);
                    }
                    None => other = true,
                }
                i = end;
            }
            _ => {
                let (negated, name) = match w.strip_prefix('!') {
                    Some(n) => (true, n),
                    None => (false, w),
                };
                let mut is_path = false;
                for (_, d) in acls.iter().filter(|(n, _)| *n == name) {
                    let inner: Vec<&str> = d.words[2..].iter().map(String::as_str).collect();
                    if let Some(p) = path_matches(&inner) {
                        is_path = true;
                        if !negated {
                            paths.extend(p);
                        }
                    }
                }
                if is_path && !negated {
                    path_condition = true;
                } else {
                    other = true;
                }
            }
        }
        i += 1;
    }
    (paths, path_condition, other)
}

/// `path_beg /a /b`, `path /x`, `path -m beg /x`: the path alternatives, or None for a
/// criterion that is not about the path (or a path test we cannot follow, e.g. `path_reg`).
fn path_matches(words: &[&str]) -> Option<Vec<PathMatch>> {
    let (crit, rest) = words.split_first()?;
    let mut flags_done = false;
    let mut method: Option<&str> = None;
    let mut values = Vec::new();
    let mut it = rest.iter();
    while let Some(w) = it.next() {
        if !flags_done && w.starts_with('-') {
            match *w {
                "-m" => method = it.next().copied(),
                "-f" | "-M" => return None,
                "--" => flags_done = true,
                _ => {}
            }
            continue;
        }
        flags_done = true;
        values.push(*w);
    }
    let prefix = match (*crit, method) {
        ("path_beg", _) | ("path", Some("beg")) => true,
        ("path", None | Some("str")) => false,
        _ => return None,
    };
    Some(
        values
            .into_iter()
            .map(|v| {
                if prefix {
                    PathMatch::Prefix(v.to_string())
                } else {
                    PathMatch::Exact(v.to_string())
                }
            })
            .collect(),
    )
}

/// Reads `haproxy.cfg` into the format-neutral model.
///
/// - Upgrade: HAProxy in `mode http` recognises the WebSocket handshake and switches the
///   connection to tunnel mode on the 101 (manual §4 "timeout tunnel"; Willy Tarreau,
///   haproxy@formilux.org 2012-05-07: "haproxy switches to tunnel mode when it sees the WS
///   handshake"), and `mode tcp` never looks at HTTP: nothing to configure.
/// - Timeouts: `read` is the backend's `timeout server` (a long-poll waits that long for the
///   server); `tunnel` is `timeout tunnel`, which "supersedes both the client and server
///   timeouts once the connection becomes a tunnel" (§4.2); without it the tunnel keeps
///   `timeout client` and `timeout server`, so `tunnel` is then `timeout client` when that is
///   the shorter one.
/// - Affinity (§4.2 "balance", "cookie", "stick on"): a `cookie` line with servers that carry
///   a `cookie` value, `stick on`, `balance source`, `balance hdr()/url_param/uri/...`.
pub fn to_model(file: &str, text: &str, source: super::ProxySource) -> super::ProxyConfig {
    use super::{
        Affinity, PathMatch as ModelPath, PathRewrite, ProxyConfig, ProxyKind, ProxyRoute,
        ProxySite, ProxyTarget, ProxyTimeouts, UpgradeForwarding, UpstreamGroup, UpstreamServer,
    };
    let cfg = parse(file, text);
    let mut model = ProxyConfig::new(ProxyKind::Haproxy, file, source);
    model.problems = cfg.errors.clone();
    let backends: Vec<Backend> = cfg
        .sections
        .iter()
        .filter(|s| matches!(s.kind, SectionKind::Backend | SectionKind::Listen))
        .filter_map(|s| s.name.as_deref().and_then(|n| cfg.backend(n)))
        .collect();
    for b in &backends {
        let servers_with_cookie = b.servers.iter().any(|s| s.cookie.is_some());
        let cookie = b.cookie.as_ref().filter(|_| servers_with_cookie).map(|c| {
            let name = c.value.split_whitespace().nth(1).unwrap_or("").to_string();
            Located::new(Affinity::Cookie(name), c.span.clone())
        });
        let stick = b
            .stick
            .as_ref()
            .map(|sp| Located::new(Affinity::Other("stick on".to_string()), Some(sp.clone())));
        let balance = b.balance.as_ref().and_then(|bl| {
            let algo = bl.value.split_whitespace().nth(1).unwrap_or("");
            let affinity = match algo {
                "source" => Affinity::ClientAddress,
                "roundrobin" | "static-rr" | "leastconn" | "first" | "random" | "" => {
                    return None;
                }
                key => Affinity::Hash {
                    key: key.to_string(),
                    consistent: bl.value.contains("consistent"),
                },
            };
            Some(Located::new(affinity, bl.span.clone()))
        });
        model.upstreams.push(UpstreamGroup {
            name: b.name.clone(),
            span: b.span.clone(),
            servers: b
                .servers
                .iter()
                .map(|s| UpstreamServer {
                    raw: format!(
                        "{}{}",
                        s.host,
                        s.port.map(|p| format!(":{p}")).unwrap_or_default()
                    ),
                    host: s.host.clone(),
                    port: s.port,
                    backup: false,
                    span: s.span.clone(),
                })
                .collect(),
            affinity: cookie.or(stick).or(balance),
        });
    }
    for fe in cfg.frontends() {
        let listen = cfg
            .sections
            .iter()
            .find(|s| s.span == fe.span)
            .map(|s| {
                s.directives
                    .iter()
                    .filter(|d| d.keyword() == "bind")
                    .filter_map(|d| {
                        d.arg(1)
                            .map(|a| Located::new(a.to_string(), Some(d.span.clone())))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let mut routes = Vec::new();
        for rule in &fe.rules {
            let group = backends.iter().position(|b| b.name == rule.backend.value);
            let backend = group.map(|i| &backends[i]);
            let target = ProxyTarget {
                raw: rule.backend.clone(),
                scheme: String::new(),
                host: rule.backend.value.clone(),
                port: None,
                group,
                dynamic: rule.backend.value.contains("%["),
            };
            let rewrite = fe
                .rewrites
                .iter()
                .chain(backend.map(|b| b.rewrites.iter()).into_iter().flatten())
                .next()
                .map_or(PathRewrite::Unchanged, |r| PathRewrite::Opaque {
                    directive: r.value.clone(),
                    span: r.span.clone(),
                });
            let read = backend.and_then(|b| b.timeout_server.clone());
            let tunnel = backend.and_then(|b| b.timeout_tunnel.clone()).or_else(|| {
                match (&fe.timeout_client, &read) {
                    (Some(c), Some(s)) if c.value < s.value => Some(c.clone()),
                    (Some(c), None) => Some(c.clone()),
                    _ => None,
                }
            });
            let paths: Vec<ModelPath> = if rule.path_condition {
                rule.paths
                    .iter()
                    .map(|p| match p {
                        PathMatch::Prefix(p) => ModelPath::Prefix(p.clone()),
                        PathMatch::Exact(p) => ModelPath::Exact(p.clone()),
                    })
                    .collect()
            } else {
                vec![ModelPath::Any]
            };
            for path in paths {
                let mut route = ProxyRoute::new(
                    rule.backend.span.clone().unwrap_or_else(|| fe.span.clone()),
                    path,
                );
                route.target = Some(target.clone());
                route.upgrade = UpgradeForwarding {
                    forwarded: true,
                    by_default: true,
                    missing: Vec::new(),
                    evidence: Vec::new(),
                };
                route.rewrite = rewrite.clone();
                route.timeouts = ProxyTimeouts {
                    read: read.clone(),
                    send: None,
                    tunnel: tunnel.clone(),
                    unlimited: None,
                };
                routes.push(route);
            }
        }
        model.sites.push(ProxySite {
            span: fe.span.clone(),
            hosts: Vec::new(),
            listen,
            routes,
        });
    }
    model
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLUSTER: &str = "global\n  daemon\n\ndefaults\n  mode http\n  balance roundrobin\n  timeout client 30s\n  timeout server 30s\n  timeout tunnel 1h\n\nfrontend web\n  bind *:80\n  acl is_sio path_beg /ws/socket.io\n  use_backend sio if is_sio\n  default_backend static\n\nbackend sio\n  balance source\n  server a app1:8080 check\n  server b app2:8080 check\n\nbackend static\n  timeout server 5000\n  server s web:80\n";

    #[test]
    fn resolves_rules_servers_and_inherited_timeouts() {
        let cfg = parse("haproxy.cfg", CLUSTER);
        assert!(cfg.errors.is_empty(), "{:?}", cfg.errors);
        let fe = &cfg.frontends()[0];
        assert_eq!(fe.name, "web");
        assert_eq!(fe.rules.len(), 2);
        assert!(fe.rules[0].may_match("/ws/socket.io/"));
        assert!(!fe.rules[0].may_match("/socket.io/"));
        assert_eq!(fe.rules[0].backend.value, "sio");
        assert_eq!(fe.rules[0].backend.span.as_ref().map(|s| s.line), Some(14));
        assert!(fe.rules[1].default);
        assert_eq!(
            fe.timeout_client
                .as_ref()
                .map(|t| (t.value, t.span.as_ref().unwrap().line)),
            Some((Duration::from_secs(30), 7))
        );
        let sio = cfg.backend("sio").unwrap();
        assert_eq!(sio.servers.len(), 2);
        assert_eq!(sio.servers[1].host, "app2");
        assert_eq!(sio.servers[1].port, Some(8080));
        assert_eq!(sio.balance.as_ref().unwrap().value, "balance source");
        assert_eq!(
            sio.balance.as_ref().unwrap().span.as_ref().unwrap().line,
            18
        );
        assert_eq!(
            sio.timeout_tunnel.as_ref().unwrap().value,
            Duration::from_secs(3600)
        );
        // A unitless time is in milliseconds (§2.5).
        let st = cfg.backend("static").unwrap();
        assert_eq!(st.timeout_server.unwrap().value, Duration::from_secs(5));
        assert_eq!(st.balance.unwrap().span.unwrap().line, 6);
    }

    #[test]
    fn anonymous_acls_alternatives_and_negation() {
        let text = "frontend f\n  acl ws hdr(Upgrade) -i websocket\n  acl api path_beg /api\n  use_backend a if { path_beg /socket.io/ } || { path -m beg /ws/ }\n  use_backend b if ws\n  use_backend c if !api\n  default_backend d\nbackend a\nbackend b\nbackend c\nbackend d\n";
        let cfg = parse("h.cfg", text);
        assert!(cfg.errors.is_empty(), "{:?}", cfg.errors);
        let fe = &cfg.frontends()[0];
        assert!(fe.rules[0].may_match("/socket.io/") && fe.rules[0].may_match("/ws/x"));
        assert!(!fe.rules[0].may_match("/other"));
        assert!(!fe.rules[1].path_condition && fe.rules[1].other_condition);
        assert!(fe.rules[2].other_condition);
    }

    #[test]
    fn cookie_persistence_and_listen_servers() {
        let text = "listen chat\n  bind *:80\n  cookie serverid insert\n  server john server-john:3000 cookie john check\n  server paul [::1]:3000 cookie paul\n";
        let cfg = parse("h.cfg", text);
        let fe = &cfg.frontends()[0];
        assert_eq!(fe.rules.len(), 1);
        assert_eq!(fe.rules[0].backend.value, "chat");
        let be = cfg.backend("chat").unwrap();
        assert_eq!(be.cookie.unwrap().value, "cookie serverid insert");
        assert_eq!(be.servers[0].cookie.as_deref(), Some("john"));
        assert_eq!(be.servers[1].host, "::1");
    }

    #[test]
    fn syntax_errors_are_listed_not_fatal() {
        let text = "maxconn 10\nfrontend\n  default_backend nowhere\nbackend b\n  timeout tunnel 1x\n  server s\n  option \"unterminated\n";
        let cfg = parse("h.cfg", text);
        let lines: Vec<u32> = cfg.errors.iter().map(|e| e.span.line).collect();
        assert_eq!(lines, vec![1, 2, 3, 5, 6, 7], "{:?}", cfg.errors);
        assert!(
            cfg.errors[2]
                .message
                .contains("no backend or listen section is named nowhere")
        );
    }

    #[test]
    fn rewrites_and_named_defaults() {
        let text = "defaults base\n  timeout tunnel 5s\ndefaults other\n  timeout tunnel 9s\nbackend b from base\n  http-request replace-path /ws(.*) \\1\n  server s app:1\n";
        let cfg = parse("h.cfg", text);
        assert!(cfg.errors.is_empty(), "{:?}", cfg.errors);
        let be = cfg.backend("b").unwrap();
        assert_eq!(be.timeout_tunnel.unwrap().value, Duration::from_secs(5));
        assert_eq!(be.rewrites.len(), 1);
        assert_eq!(be.rewrites[0].span.as_ref().unwrap().line, 6);
    }
}
