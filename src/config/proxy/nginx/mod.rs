//! nginx configuration → [`ProxyConfig`].
//!
//! Own tokenizer and parser ([`parse`]): no maintained crate parses nginx with line numbers.
//! `nginx-config` (tailhook) has had no release since 2019 and rejects directives it does not
//! know (most third-party modules, `sticky`, newer core directives) instead of keeping them;
//! `nginx-conf`/`nginx_parser` style crates give no line numbers or no nesting. The
//! reference parser is crossplane (Python, NGINX Inc.); `tests/proxy_crossplane.rs`
//! compares the trees of every nginx file of the proxy corpus with it.
//!
//! What is read, each with file:line: `include` (globs, relative to nginx's configuration
//! directory inside the container, mapped to host files through the compose mounts),
//! `map $http_upgrade $…`, `upstream` blocks (servers, `ip_hash`, `hash`, `sticky`),
//! `server` blocks (`listen`, `server_name`) and their `location`s (nested too), and in
//! each location `proxy_pass` with nginx's URI replacement rules, `proxy_http_version`,
//! `proxy_set_header` with nginx's inheritance rule, `proxy_read_timeout` and
//! `proxy_send_timeout`.

pub mod parse;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{
    Affinity, PathMatch, PathRewrite, ProxyConfig, ProxyKind, ProxyRoute, ProxySite, ProxySource,
    ProxySyntaxProblem, ProxyTarget, ProxyTimeouts, UpgradeForwarding, UpstreamGroup,
    UpstreamServer,
};
use crate::config::{Located, Span};
use parse::Directive;

/// nginx's default for `proxy_read_timeout` and `proxy_send_timeout`: 60 s
/// (<https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_read_timeout>).
pub const DEFAULT_PROXY_TIMEOUT: Duration = Duration::from_secs(60);

/// The largest file read (a proxy configuration is a few kilobytes; anything larger is not
/// one).
const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;
/// Include nesting deeper than this is a loop.
const MAX_INCLUDE_DEPTH: usize = 16;

/// Where the entry file's directives sit: a whole `nginx.conf` (main context) or a file the
/// image's own nginx.conf includes inside `http {}` (`/etc/nginx/conf.d/*.conf`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryContext {
    Main,
    Http,
}

/// How include paths are found on this machine.
#[derive(Debug, Clone, Default)]
pub struct IncludePaths {
    /// nginx's configuration directory inside the container (`/etc/nginx` for the official
    /// image): relative includes are resolved there, as nginx resolves them against its
    /// `--conf-path` directory. None: against the entry file's own directory.
    pub conf_dir: Option<String>,
    /// Container path → host path, for each bind mount of the proxy service.
    pub mounts: Vec<(String, PathBuf)>,
}

impl IncludePaths {
    /// The host path pattern for an include argument, or None when it lies in the
    /// container only.
    fn resolve(&self, arg: &str, entry_dir: &Path) -> Option<PathBuf> {
        let container = if arg.starts_with('/') {
            arg.to_string()
        } else {
            match &self.conf_dir {
                Some(dir) => format!("{}/{arg}", dir.trim_end_matches('/')),
                None => return Some(entry_dir.join(arg)),
            }
        };
        self.mounts
            .iter()
            .filter_map(|(target, host)| {
                let t = target.trim_end_matches('/');
                let rest = container.strip_prefix(t)?;
                (rest.is_empty() || rest.starts_with('/'))
                    .then(|| (t.len(), host.join(rest.trim_start_matches('/'))))
            })
            .max_by_key(|(len, _)| *len)
            .map(|(_, p)| p)
    }
}

/// A directive after includes were spliced in, with its place in the user's files.
#[derive(Debug, Clone)]
struct Node {
    name: String,
    args: Vec<String>,
    span: Span,
    block: Option<Vec<Node>>,
}

impl Node {
    /// The directive as written, without its block or `;`.
    fn text(&self) -> String {
        let mut s = self.name.clone();
        for a in &self.args {
            s.push(' ');
            if a.is_empty() || a.contains(char::is_whitespace) || a.contains(';') {
                s.push('"');
                s.push_str(a);
                s.push('"');
            } else {
                s.push_str(a);
            }
        }
        s
    }

    fn located_text(&self) -> Located<String> {
        Located::new(self.text(), Some(self.span.clone()))
    }
}

/// Reads an nginx configuration: `entry` (a host path) shown as `shown`, the included files
/// shown through `display`.
pub fn read(
    entry: &Path,
    shown: &str,
    context: EntryContext,
    paths: &IncludePaths,
    source: ProxySource,
    display: &dyn Fn(&Path) -> String,
) -> ProxyConfig {
    let mut config = ProxyConfig::new(ProxyKind::Nginx, shown, source);
    let entry_dir = entry.parent().unwrap_or(Path::new(".")).to_path_buf();
    let mut reader = Reader {
        config: &mut config,
        paths,
        entry_dir,
        display,
        stack: Vec::new(),
    };
    let nodes = reader.file(entry, shown.to_string(), None);
    let mut interp = Interpreter::default();
    match context {
        EntryContext::Main => interp.main(&nodes),
        EntryContext::Http => interp.http(&nodes, &Settings::default()),
    }
    interp.finish(&mut config);
    config
}

/// Reads what the image's own nginx.conf would include inside `http {}` (`pattern`, a
/// container path such as `/etc/nginx/conf.d/*.conf`), through the mounts in `paths`.
/// `shown` names the configuration (the mounted file or directory).
pub fn read_included(
    pattern: &str,
    shown: &str,
    paths: &IncludePaths,
    source: ProxySource,
    display: &dyn Fn(&Path) -> String,
) -> ProxyConfig {
    let mut config = ProxyConfig::new(ProxyKind::Nginx, shown, source);
    config.files.clear();
    let mut reader = Reader {
        config: &mut config,
        paths,
        entry_dir: PathBuf::from("."),
        display,
        stack: Vec::new(),
    };
    let span = Span::new(shown, 1, 1);
    let nodes = reader.include(pattern, &span);
    let mut interp = Interpreter::default();
    interp.http(&nodes, &Settings::default());
    interp.finish(&mut config);
    config
}

/// Reads configuration text given in memory (tests, benchmarks): includes are resolved
/// against `dir`.
pub fn read_text(text: &str, shown: &str, context: EntryContext) -> ProxyConfig {
    let mut config = ProxyConfig::new(ProxyKind::Nginx, shown, ProxySource::Flag);
    let paths = IncludePaths::default();
    let display = |p: &Path| p.display().to_string();
    let mut reader = Reader {
        config: &mut config,
        paths: &paths,
        entry_dir: PathBuf::from("."),
        display: &display,
        stack: Vec::new(),
    };
    let nodes = reader.text(text, shown);
    let mut interp = Interpreter::default();
    match context {
        EntryContext::Main => interp.main(&nodes),
        EntryContext::Http => interp.http(&nodes, &Settings::default()),
    }
    interp.finish(&mut config);
    config
}

/// Whether a file's top level looks like a whole nginx.conf (it has `http`, `events`,
/// `stream` or main-only directives) rather than a conf.d fragment.
pub fn entry_context(text: &str) -> EntryContext {
    let (tree, _) = parse::parse(text);
    let main_only = [
        "http",
        "events",
        "stream",
        "worker_processes",
        "user",
        "pid",
    ];
    if tree.iter().any(|d| main_only.contains(&d.name.as_str())) {
        EntryContext::Main
    } else {
        EntryContext::Http
    }
}

struct Reader<'a> {
    config: &'a mut ProxyConfig,
    paths: &'a IncludePaths,
    entry_dir: PathBuf,
    display: &'a dyn Fn(&Path) -> String,
    /// Files being read (include loop guard).
    stack: Vec<PathBuf>,
}

impl Reader<'_> {
    fn file(&mut self, path: &Path, shown: String, included_at: Option<&Span>) -> Vec<Node> {
        let problem_at = |line| included_at.cloned().unwrap_or(Span::new(&shown, line, 1));
        let text = match std::fs::metadata(path) {
            Ok(m) if m.len() > MAX_FILE_BYTES => {
                self.config.problems.push(ProxySyntaxProblem {
                    span: problem_at(1),
                    message: format!("{shown}: larger than {MAX_FILE_BYTES} bytes"),
                });
                return Vec::new();
            }
            _ => match std::fs::read(path) {
                Ok(bytes) => match String::from_utf8(bytes) {
                    Ok(t) => t,
                    Err(_) => {
                        self.config.problems.push(ProxySyntaxProblem {
                            span: problem_at(1),
                            message: format!("{shown}: not UTF-8 text"),
                        });
                        return Vec::new();
                    }
                },
                Err(e) => {
                    // nginx -t: `open() "…" failed (2: No such file or directory)`.
                    self.config.problems.push(ProxySyntaxProblem {
                        span: problem_at(1),
                        message: format!("open() \"{shown}\" failed ({e})"),
                    });
                    return Vec::new();
                }
            },
        };
        if !self.config.files.contains(&shown) {
            self.config.files.push(shown.clone());
        }
        self.config
            .ignores
            .extend(crate::config::scan_ignores(&shown, &text));
        self.stack.push(path.to_path_buf());
        let nodes = self.text(&text, &shown);
        self.stack.pop();
        nodes
    }

    fn text(&mut self, text: &str, shown: &str) -> Vec<Node> {
        let (tree, errors) = parse::parse(text);
        for e in errors {
            self.config.problems.push(ProxySyntaxProblem {
                span: Span::new(shown, e.line, e.column),
                message: e.message,
            });
        }
        self.nodes(tree, shown)
    }

    fn nodes(&mut self, tree: Vec<Directive>, shown: &str) -> Vec<Node> {
        let mut out = Vec::new();
        for d in tree {
            let span = Span::new(shown, d.line, d.column);
            if d.name == "include" && d.block.is_none() {
                if let Some(arg) = d.args.first() {
                    out.extend(self.include(arg, &span));
                }
                continue;
            }
            let block = d.block.map(|b| self.nodes(b, shown));
            out.push(Node {
                name: d.name,
                args: d.args,
                span,
                block,
            });
        }
        out
    }

    fn include(&mut self, arg: &str, span: &Span) -> Vec<Node> {
        let Some(pattern) = self.paths.resolve(arg, &self.entry_dir) else {
            self.config
                .unread_includes
                .push(Located::new(arg.to_string(), Some(span.clone())));
            return Vec::new();
        };
        if self.stack.len() >= MAX_INCLUDE_DEPTH || self.stack.contains(&pattern) {
            self.config.problems.push(ProxySyntaxProblem {
                span: span.clone(),
                message: format!("include \"{arg}\" includes itself"),
            });
            return Vec::new();
        }
        let has_glob = arg.contains(['*', '?', '[']);
        let files = if has_glob {
            expand_glob(&pattern)
        } else {
            vec![pattern]
        };
        let mut out = Vec::new();
        for f in files {
            if self.stack.contains(&f) {
                continue;
            }
            let shown = (self.display)(&f);
            out.extend(self.file(&f, shown, Some(span)));
        }
        out
    }
}

/// Expands `*` and `?` in each component of a path, sorted (glob(3), which nginx calls for
/// includes with wildcards, sorts its matches). A pattern matching nothing gives nothing:
/// nginx accepts that.
fn expand_glob(pattern: &Path) -> Vec<PathBuf> {
    let mut found = vec![PathBuf::new()];
    for comp in pattern.components() {
        let part = comp.as_os_str().to_string_lossy().to_string();
        let mut next = Vec::new();
        for base in &found {
            if part.contains(['*', '?']) {
                let dir = if base.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    base.as_path()
                };
                let Ok(entries) = std::fs::read_dir(dir) else {
                    continue;
                };
                let mut names: Vec<String> = entries
                    .filter_map(Result::ok)
                    .map(|e| e.file_name().to_string_lossy().to_string())
                    .filter(|n| !n.starts_with('.') && wildcard(&part, n))
                    .collect();
                names.sort();
                next.extend(names.into_iter().map(|n| base.join(n)));
            } else {
                next.push(base.join(&part));
            }
        }
        found = next;
    }
    found.into_iter().filter(|p| p.is_file()).collect()
}

fn wildcard(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    let (mut pi, mut ni, mut star, mut mark) = (0, 0, None, 0);
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ni;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ni = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// A `proxy_set_header` line.
#[derive(Debug, Clone)]
struct HeaderLine {
    name: String,
    value: String,
    line: Located<String>,
}

/// The proxy settings a level defines or inherits (nginx merges them from `http` to
/// `server` to `location`, each level keeping its own value when it sets one).
#[derive(Debug, Clone, Default)]
struct Settings {
    http_version: Option<Located<String>>,
    /// The `proxy_set_header` lines of the innermost level that has any: nginx inherits the
    /// outer level's list only when the inner level defines none ("These directives are
    /// inherited from the previous configuration level if and only if there are no
    /// proxy_set_header directives defined on the current level",
    /// <https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_set_header>).
    headers: Option<(Span, Vec<HeaderLine>)>,
    read: Option<Located<Duration>>,
    send: Option<Located<Duration>>,
}

impl Settings {
    /// This level's settings over `outer`'s.
    fn merge(outer: &Settings, block: &[Node]) -> Settings {
        let mut s = outer.clone();
        let mut own_headers: Vec<HeaderLine> = Vec::new();
        let mut first_header: Option<Span> = None;
        for d in block {
            match d.name.as_str() {
                "proxy_http_version" => {
                    if let Some(v) = d.args.first() {
                        s.http_version = Some(Located::new(v.clone(), Some(d.span.clone())));
                    }
                }
                "proxy_set_header" => {
                    first_header.get_or_insert(d.span.clone());
                    if let [name, value, ..] = d.args.as_slice() {
                        own_headers.push(HeaderLine {
                            name: name.clone(),
                            value: value.clone(),
                            line: d.located_text(),
                        });
                    }
                }
                "proxy_read_timeout" | "proxy_send_timeout" => {
                    if let Some(t) = d.args.first().and_then(|a| parse_time(a)) {
                        let v = Some(Located::new(t, Some(d.span.clone())));
                        if d.name == "proxy_read_timeout" {
                            s.read = v;
                        } else {
                            s.send = v;
                        }
                    }
                }
                _ => {}
            }
        }
        if let Some(first) = first_header {
            s.headers = Some((first, own_headers));
        }
        s
    }
}

/// nginx time values: `60`, `60s`, `10m`, `1h30m`, `500ms`, `7d`
/// (<https://nginx.org/en/docs/syntax.html>).
pub fn parse_time(text: &str) -> Option<Duration> {
    let mut total = Duration::ZERO;
    let mut rest = text.trim();
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return None;
        }
        let n: u64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let secs = |k: u64| Duration::from_secs(n.saturating_mul(k));
        total += match unit {
            "ms" => Duration::from_millis(n),
            "" | "s" => secs(1),
            "m" => secs(60),
            "h" => secs(3600),
            "d" => secs(86_400),
            "w" => secs(7 * 86_400),
            "M" => secs(30 * 86_400),
            "y" => secs(365 * 86_400),
            _ => return None,
        };
    }
    Some(total)
}

#[derive(Default)]
struct Interpreter {
    sites: Vec<ProxySite>,
    upstreams: Vec<UpstreamGroup>,
    /// `map $http_upgrade $name` → the map line.
    upgrade_maps: BTreeMap<String, Located<String>>,
    problems: Vec<ProxySyntaxProblem>,
}

impl Interpreter {
    fn main(&mut self, nodes: &[Node]) {
        for d in nodes {
            if d.name == "http"
                && let Some(block) = &d.block
            {
                self.http(block, &Settings::default());
            }
        }
    }

    /// An `http` level: maps and upstreams first (nginx resolves names after reading the
    /// whole configuration), then servers.
    fn http(&mut self, nodes: &[Node], outer: &Settings) {
        let settings = Settings::merge(outer, nodes);
        for d in nodes {
            match (d.name.as_str(), &d.block) {
                ("map", Some(_)) => {
                    if let [source, var, ..] = d.args.as_slice()
                        && source == "$http_upgrade"
                    {
                        self.upgrade_maps
                            .insert(var.trim_start_matches('$').to_string(), d.located_text());
                    }
                }
                ("upstream", Some(block)) => self.upstream(d, block),
                _ => {}
            }
        }
        for d in nodes {
            if d.name == "server"
                && let Some(block) = &d.block
            {
                self.server(d, block, &settings);
            }
        }
    }

    fn upstream(&mut self, d: &Node, block: &[Node]) {
        let mut group = UpstreamGroup {
            name: d.args.first().cloned().unwrap_or_default(),
            span: d.span.clone(),
            servers: Vec::new(),
            affinity: None,
        };
        for s in block {
            let at = Some(s.span.clone());
            match s.name.as_str() {
                "server" => {
                    let Some(raw) = s.args.first() else { continue };
                    let (host, port) = split_host_port(raw, Some(80));
                    group.servers.push(UpstreamServer {
                        raw: raw.clone(),
                        host,
                        port,
                        backup: s.args.iter().any(|a| a == "backup" || a == "down"),
                        span: s.span.clone(),
                    });
                }
                // ngx_http_upstream_ip_hash_module, ngx_http_upstream_hash_module; `sticky`
                // is NGINX Plus (and third-party modules of that name).
                "ip_hash" => group.affinity = Some(Located::new(Affinity::ClientAddress, at)),
                "hash" => {
                    if let Some(key) = s.args.first() {
                        group.affinity = Some(Located::new(
                            Affinity::Hash {
                                key: key.clone(),
                                consistent: s.args.iter().any(|a| a == "consistent"),
                            },
                            at,
                        ));
                    }
                }
                "sticky" => {
                    let affinity = match s.args.as_slice() {
                        [kind, name, ..] if kind == "cookie" => Affinity::Cookie(name.clone()),
                        _ => Affinity::Other(s.text()),
                    };
                    group.affinity = Some(Located::new(affinity, at));
                }
                _ => {}
            }
        }
        self.upstreams.push(group);
    }

    fn server(&mut self, d: &Node, block: &[Node], outer: &Settings) {
        let settings = Settings::merge(outer, block);
        let mut site = ProxySite {
            span: d.span.clone(),
            hosts: Vec::new(),
            listen: Vec::new(),
            routes: Vec::new(),
        };
        for s in block {
            match s.name.as_str() {
                "server_name" => site.hosts.extend(
                    s.args
                        .iter()
                        .filter(|a| !a.is_empty() && a.as_str() != "_")
                        .map(|a| Located::new(a.clone(), Some(s.span.clone()))),
                ),
                "listen" => site
                    .listen
                    .push(Located::new(s.args.join(" "), Some(s.span.clone()))),
                "location" => {
                    if let Some(route) = self.location(s, &settings) {
                        site.routes.push(route);
                    }
                }
                _ => {}
            }
        }
        self.sites.push(site);
    }

    fn location(&mut self, d: &Node, outer: &Settings) -> Option<ProxyRoute> {
        let block = d.block.as_ref()?;
        let path = match d.args.as_slice() {
            [m, p] if m == "=" => PathMatch::Exact(p.clone()),
            [m, p] if m == "^~" => PathMatch::PrefixNoRegex(p.clone()),
            [m, p] if m == "~" || m == "~*" => PathMatch::Regex {
                pattern: p.clone(),
                case_insensitive: m == "~*",
            },
            [p] if p.starts_with('@') => PathMatch::Named(p.clone()),
            [p] => PathMatch::Prefix(p.clone()),
            _ => {
                self.problems.push(ProxySyntaxProblem {
                    span: d.span.clone(),
                    message: "invalid number of arguments in \"location\" directive".to_string(),
                });
                return None;
            }
        };
        let settings = Settings::merge(outer, block);
        let mut route = ProxyRoute::new(d.span.clone(), path);
        let mut rewrite: Option<&Node> = None;
        for s in block {
            match s.name.as_str() {
                "proxy_pass" => {
                    if let Some(raw) = s.args.first() {
                        route.target = Some(self.proxy_pass(raw, s));
                        route.rewrite = self.rewrite_for(&route.path, raw, s);
                    }
                }
                "rewrite" if rewrite.is_none() => rewrite = Some(s),
                "location" => {
                    if let Some(inner) = self.location(s, &settings) {
                        route.nested.push(inner);
                    }
                }
                _ => {}
            }
        }
        // `rewrite … break` before proxy_pass: nginx passes the rewritten URI and ignores
        // proxy_pass's URI part; the reader does not evaluate regexes over paths.
        if let (Some(r), Some(_)) = (rewrite, &route.target) {
            route.rewrite = PathRewrite::Opaque {
                directive: r.text(),
                span: Some(r.span.clone()),
            };
        }
        route.timeouts = ProxyTimeouts {
            read: Some(
                settings
                    .read
                    .clone()
                    .unwrap_or(Located::new(DEFAULT_PROXY_TIMEOUT, None)),
            ),
            send: Some(
                settings
                    .send
                    .clone()
                    .unwrap_or(Located::new(DEFAULT_PROXY_TIMEOUT, None)),
            ),
            tunnel: None,
            unlimited: None,
        };
        route.upgrade = self.upgrade(&settings, block);
        Some(route)
    }

    /// `proxy_pass URL`: the target, and the group it names (resolved in `finish`).
    fn proxy_pass(&mut self, raw: &str, d: &Node) -> ProxyTarget {
        let (scheme, rest) = raw.split_once("://").unwrap_or(("", raw));
        let dynamic = raw.contains('$');
        let (authority, _) = split_uri(rest);
        let (host, port) = if authority.starts_with("unix:") {
            (String::new(), None)
        } else {
            split_host_port(authority, None)
        };
        if !matches!(scheme, "http" | "https") && !dynamic {
            // nginx -t: `invalid URL prefix in "…"`.
            self.problems.push(ProxySyntaxProblem {
                span: d.span.clone(),
                message: format!("invalid URL prefix in \"{raw}\""),
            });
        }
        ProxyTarget {
            raw: Located::new(raw.to_string(), Some(d.span.clone())),
            scheme: scheme.to_string(),
            host,
            port,
            group: None,
            dynamic,
        }
    }

    /// nginx's proxy_pass URI rules
    /// (<https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_pass>): with a URI,
    /// the part of the request path that matched a prefix location is replaced by the URI;
    /// without one, the path goes as is; with variables, a URI replaces the whole path; a URI
    /// in a regex or named location is refused by `nginx -t`.
    fn rewrite_for(&mut self, path: &PathMatch, raw: &str, d: &Node) -> PathRewrite {
        let rest = raw.split_once("://").map_or(raw, |(_, r)| r);
        let rest = rest.strip_prefix("unix:").map_or(rest, |r| {
            // `unix:/path:/uri`: the socket path ends at the colon.
            r.split_once(':').map_or("", |(_, uri)| uri)
        });
        let (_, uri) = split_uri(rest);
        let Some(uri) = uri else {
            return PathRewrite::Unchanged;
        };
        let span = Some(d.span.clone());
        if raw.contains('$') {
            return PathRewrite::Fixed {
                uri: uri.to_string(),
                span,
            };
        }
        match path {
            PathMatch::Prefix(p) | PathMatch::PrefixNoRegex(p) | PathMatch::Exact(p) => {
                PathRewrite::ReplacePrefix {
                    prefix: p.clone(),
                    with: uri.to_string(),
                    span,
                }
            }
            PathMatch::Regex { .. } | PathMatch::Named(_) | PathMatch::Any => {
                self.problems.push(ProxySyntaxProblem {
                    span: d.span.clone(),
                    message: "\"proxy_pass\" cannot have URI part in location given by regular \
                              expression, or inside named location, or inside \"if\" \
                              statement, or inside \"limit_except\" block"
                        .to_string(),
                });
                PathRewrite::Fixed {
                    uri: uri.to_string(),
                    span,
                }
            }
        }
    }

    /// Whether the effective settings forward the upgrade: HTTP/1.1 to the upstream, and
    /// the hop-by-hop `Upgrade` and `Connection` headers set again (nginx does not pass
    /// them on: <https://nginx.org/en/docs/http/websocket.html>).
    fn upgrade(&self, settings: &Settings, block: &[Node]) -> UpgradeForwarding {
        let mut up = UpgradeForwarding::default();
        match &settings.http_version {
            Some(v) if v.value == "1.1" => up.evidence.push(Located::new(
                format!("proxy_http_version {}", v.value),
                v.span.clone(),
            )),
            other => {
                if let Some(v) = other {
                    up.evidence.push(Located::new(
                        format!("proxy_http_version {}", v.value),
                        v.span.clone(),
                    ));
                }
                // nginx before 1.30 talks HTTP/1.0 to upstreams unless told otherwise
                // (nginx CHANGES-1.30: proxy_http_version now defaults to 1.1).
                up.missing.push("proxy_http_version 1.1;".to_string());
            }
        }
        let headers = settings.headers.as_ref().map(|(_, h)| h.as_slice());
        let find = |name: &str| {
            headers.and_then(|h| h.iter().rev().find(|l| l.name.eq_ignore_ascii_case(name)))
        };
        // Headers set here shadow the outer level's: say so when the outer one had them.
        let shadowed = |name: &str| -> String {
            let own = block.iter().any(|d| d.name == "proxy_set_header");
            if own && find(name).is_none() {
                " (this location sets its own proxy_set_header, so the outer level's are not \
                 inherited)"
                    .to_string()
            } else {
                String::new()
            }
        };
        match find("Upgrade") {
            Some(l)
                if l.value.contains("$http_upgrade")
                    || l.value.eq_ignore_ascii_case("websocket") =>
            {
                up.evidence.push(l.line.clone());
            }
            Some(l) => {
                up.evidence.push(l.line.clone());
                up.missing
                    .push("proxy_set_header Upgrade $http_upgrade;".to_string());
            }
            None => up.missing.push(format!(
                "proxy_set_header Upgrade $http_upgrade;{}",
                shadowed("Upgrade")
            )),
        }
        match find("Connection") {
            Some(l) => {
                up.evidence.push(l.line.clone());
                let v = l.value.trim();
                let var = v.strip_prefix('$').map(|n| n.trim_matches(['{', '}']));
                let ok = v.eq_ignore_ascii_case("upgrade")
                    || v == "$http_connection"
                    || var.is_some_and(|n| {
                        if let Some(map) = self.upgrade_maps.get(n) {
                            up.evidence.push(map.clone());
                            true
                        } else {
                            false
                        }
                    });
                if !ok {
                    up.missing
                        .push("proxy_set_header Connection \"upgrade\";".to_string());
                }
            }
            None => up.missing.push(format!(
                "proxy_set_header Connection \"upgrade\";{}",
                shadowed("Connection")
            )),
        }
        up.forwarded = up.missing.is_empty();
        up
    }

    fn finish(mut self, config: &mut ProxyConfig) {
        let names: BTreeMap<String, usize> = self
            .upstreams
            .iter()
            .enumerate()
            .map(|(i, g)| (g.name.clone(), i))
            .collect();
        fn link(route: &mut ProxyRoute, names: &BTreeMap<String, usize>) {
            if let Some(t) = &mut route.target
                && t.port.is_none()
                && !t.dynamic
            {
                t.group = names.get(&t.host).copied();
            }
            for n in &mut route.nested {
                link(n, names);
            }
        }
        for site in &mut self.sites {
            for r in &mut site.routes {
                link(r, &names);
            }
        }
        let mut seen = BTreeSet::new();
        self.problems
            .retain(|p| seen.insert((p.span.clone(), p.message.clone())));
        config.sites = self.sites;
        config.upstreams = self.upstreams;
        config.problems.extend(self.problems);
        config.problems.sort_by(|a, b| a.span.cmp(&b.span));
    }
}

/// `host[:port]` (IPv6 in brackets). `default` when no port is written.
fn split_host_port(text: &str, default: Option<u16>) -> (String, Option<u16>) {
    if text.starts_with("unix:") {
        return (String::new(), None);
    }
    if let Some(rest) = text.strip_prefix('[') {
        let (host, after) = rest.split_once(']').unwrap_or((rest, ""));
        let port = after.strip_prefix(':').and_then(|p| p.parse().ok());
        return (host.to_string(), port.or(default));
    }
    match text.rsplit_once(':') {
        Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) && !p.is_empty() => {
            (h.to_string(), p.parse().ok().or(default))
        }
        _ => (text.to_string(), default),
    }
}

/// Splits `authority/uri` after the scheme: the URI starts at the first `/`.
fn split_uri(rest: &str) -> (&str, Option<&str>) {
    match rest.find('/') {
        Some(i) => (&rest[..i], Some(&rest[i..])),
        None => (rest, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> ProxyConfig {
        read_text(text, "nginx.conf", entry_context(text))
    }

    #[test]
    fn times() {
        assert_eq!(parse_time("60"), Some(Duration::from_secs(60)));
        assert_eq!(parse_time("10m"), Some(Duration::from_secs(600)));
        assert_eq!(parse_time("1h30m"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_time("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_time("7d"), Some(Duration::from_secs(7 * 86400)));
        assert_eq!(parse_time("x"), None);
        assert_eq!(parse_time("10q"), None);
    }

    #[test]
    fn upstream_location_and_upgrade() {
        let c = read(
            "map $http_upgrade $connection_upgrade { default upgrade; '' close; }\n\
             upstream app { ip_hash; server app1:8080; server app2:8080 backup; }\n\
             server {\n listen 80; server_name chat.example.com;\n\
             proxy_set_header Host $host;\n\
             location /ws/ {\n proxy_pass http://app/;\n proxy_http_version 1.1;\n\
             proxy_set_header Upgrade $http_upgrade;\n proxy_set_header Connection $connection_upgrade;\n\
             proxy_read_timeout 10s;\n }\n\
             location / { proxy_pass http://app; }\n}\n",
        );
        assert!(c.problems.is_empty(), "{:?}", c.problems);
        let g = &c.upstreams[0];
        assert_eq!(g.servers.len(), 2);
        assert_eq!(g.active_servers().count(), 1);
        assert_eq!(g.affinity.as_ref().unwrap().value, Affinity::ClientAddress);
        let site = &c.sites[0];
        assert_eq!(site.hosts[0].value, "chat.example.com");
        let ws = c.route_for(site, "/ws/socket.io/").unwrap();
        assert_eq!(ws.span.line, 6);
        assert!(ws.upgrade.forwarded, "{:?}", ws.upgrade);
        assert_eq!(ws.upgrade.evidence.len(), 4, "{:?}", ws.upgrade.evidence);
        assert_eq!(ws.target.as_ref().unwrap().group, Some(0));
        assert_eq!(
            ws.rewrite.apply("/ws/socket.io/").as_deref(),
            Some("/socket.io/")
        );
        assert_eq!(
            ws.timeouts.read.as_ref().unwrap().value,
            Duration::from_secs(10)
        );
        let root = c.route_for(site, "/socket.io/").unwrap();
        assert!(!root.upgrade.forwarded);
        assert_eq!(root.upgrade.missing.len(), 3, "{:?}", root.upgrade.missing);
        assert_eq!(root.timeouts.read.as_ref().unwrap().span, None);
    }

    #[test]
    fn own_headers_hide_the_servers() {
        let c = read(
            "server {\n proxy_http_version 1.1;\n proxy_set_header Upgrade $http_upgrade;\n\
             proxy_set_header Connection upgrade;\n\
             location / { proxy_set_header Host $host; proxy_pass http://a:1; }\n\
             location /b { proxy_pass http://a:1; }\n}\n",
        );
        let site = &c.sites[0];
        let a = c.route_for(site, "/x").unwrap();
        assert!(!a.upgrade.forwarded);
        assert!(
            a.upgrade.missing[0].contains("not inherited"),
            "{:?}",
            a.upgrade
        );
        let b = c.route_for(site, "/b").unwrap();
        assert!(b.upgrade.forwarded, "{:?}", b.upgrade);
        assert_eq!(b.upgrade.evidence[0].span.as_ref().unwrap().line, 2);
    }

    #[test]
    fn uri_in_a_regex_location_is_refused() {
        let c = read("server { location ~ ^/api { proxy_pass http://a:1/x; } }\n");
        assert_eq!(c.problems.len(), 1, "{:?}", c.problems);
        assert!(c.problems[0].message.contains("cannot have URI part"));
    }

    #[test]
    fn includes_follow_mounts_and_globs() {
        let dir = tempfile::tempdir().unwrap();
        let confd = dir.path().join("conf.d");
        std::fs::create_dir(&confd).unwrap();
        std::fs::write(
            dir.path().join("nginx.conf"),
            "events {}\nhttp {\n include /etc/nginx/conf.d/*.conf;\n include mime.types;\n}\n",
        )
        .unwrap();
        std::fs::write(confd.join("b.conf"), "server { location / { } }\n").unwrap();
        std::fs::write(confd.join("a.conf"), "server { listen 81; }\n").unwrap();
        let paths = IncludePaths {
            conf_dir: Some("/etc/nginx".into()),
            mounts: vec![
                (
                    "/etc/nginx/nginx.conf".into(),
                    dir.path().join("nginx.conf"),
                ),
                ("/etc/nginx/conf.d".into(), confd.clone()),
            ],
        };
        let c = super::read(
            &dir.path().join("nginx.conf"),
            "nginx.conf",
            EntryContext::Main,
            &paths,
            ProxySource::Flag,
            &|p: &Path| p.strip_prefix(dir.path()).unwrap().display().to_string(),
        );
        assert_eq!(
            c.files,
            vec!["nginx.conf", "conf.d/a.conf", "conf.d/b.conf"]
        );
        assert_eq!(c.sites.len(), 2);
        assert_eq!(c.sites[0].listen[0].value, "81");
        assert_eq!(c.unread_includes[0].value, "mime.types");
    }

    #[test]
    fn glob_wildcards() {
        assert!(wildcard("*.conf", "a.conf"));
        assert!(!wildcard("*.conf", "a.conf.bak"));
        assert!(wildcard("a?c*", "abcdef"));
    }
}
