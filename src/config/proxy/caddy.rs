//! Caddyfile: site blocks, snippets and `import`, `handle` / `handle_path` / `route` blocks,
//! named and path matchers, `reverse_proxy` with its upstreams, `lb_policy` and
//! `transport http { read_timeout … }`, `uri strip_prefix` and `rewrite`. Every value keeps
//! its file:line.
//!
//! Sources (Caddy 2 documentation; Debian 12 ships caddy 2.6.2):
//! - Caddyfile concepts (tokens, quotes, blocks, snippets):
//!   <https://caddyserver.com/docs/caddyfile/concepts>
//! - request matchers (path matching is exact; `*` is a wildcard):
//!   <https://caddyserver.com/docs/caddyfile/matchers>
//! - `reverse_proxy` (upstreams, `lb_policy`, `transport http`, WebSockets proxied with no
//!   configuration): <https://caddyserver.com/docs/caddyfile/directives/reverse_proxy>
//! - `handle_path` ("implicitly uses uri strip_prefix to strip the matched path prefix"):
//!   <https://caddyserver.com/docs/caddyfile/directives/handle_path>

use std::time::Duration;

use super::ProxySyntaxProblem;
use crate::config::model::{Located, Span};

/// One token and where it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Token {
    text: String,
    /// Written in quotes: never a block brace or a matcher.
    quoted: bool,
    /// The logical line: the physical line less the `\` continuations before it, so a
    /// continued directive stays one line.
    logical: u32,
    line: u32,
    column: u32,
}

/// A line of tokens, with the block it opens (`… {` up to the matching `}`).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Node {
    words: Vec<Token>,
    block: Option<Vec<Node>>,
}

impl Node {
    fn word(&self, i: usize) -> Option<&str> {
        self.words.get(i).map(|t| t.text.as_str())
    }
}

/// A path pattern of a path matcher (matchers page, "path": exact match unless `*` is used;
/// `/prefix*` is a prefix match, `*.ext` a suffix match, `*` alone matches every path).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathPattern(pub String);

impl PathPattern {
    /// Whether the request path `path` matches (case-insensitive, as Caddy matches paths).
    pub fn matches(&self, path: &str) -> bool {
        let pat = self.0.to_ascii_lowercase();
        let path = path.to_ascii_lowercase();
        if pat == "*" {
            return true;
        }
        match (pat.strip_prefix('*'), pat.strip_suffix('*')) {
            (Some(inner), _) if inner.ends_with('*') => path.contains(&inner[..inner.len() - 1]),
            (Some(suffix), _) => path.ends_with(suffix),
            (None, Some(prefix)) => path.starts_with(prefix),
            (None, None) => {
                if pat.contains('*') {
                    // `/a/*/b`: the parts in order.
                    let mut rest = path.as_str();
                    for (i, part) in pat.split('*').enumerate() {
                        if i == 0 {
                            let Some(r) = rest.strip_prefix(part) else {
                                return false;
                            };
                            rest = r;
                        } else if let Some(p) = rest.find(part) {
                            rest = &rest[p + part.len()..];
                        } else {
                            return false;
                        }
                    }
                    true
                } else {
                    path == pat
                }
            }
        }
    }

    /// The literal part before any `*`: longer is more specific (the Caddyfile sorts
    /// same-named directives by their path matcher's specificity, longest first).
    pub fn specificity(&self) -> usize {
        self.0.split('*').next().map_or(0, str::len)
    }
}

/// The conditions a request must meet to reach a handler: every level (site, `handle`,
/// `reverse_proxy` matcher) must match.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Condition {
    /// Each entry is one matcher's path alternatives (ORed); entries are ANDed.
    pub paths: Vec<(Vec<PathPattern>, Span)>,
    /// A matcher also tests something other than the path (header, method, not, …).
    pub other: bool,
}

impl Condition {
    pub fn may_match(&self, path: &str) -> bool {
        self.paths
            .iter()
            .all(|(alts, _)| alts.iter().any(|p| p.matches(path)))
    }

    fn specificity(&self) -> usize {
        self.paths
            .iter()
            .flat_map(|(alts, _)| alts.iter().map(PathPattern::specificity))
            .max()
            .unwrap_or(0)
    }
}

/// One `reverse_proxy` and everything around it that shapes the request it forwards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReverseProxy {
    /// The site's addresses (`example.com`, `:8080`, `localhost`).
    pub site: Vec<String>,
    pub span: Span,
    pub condition: Condition,
    /// Upstreams as written: `app:8000`, `http://app:8000`, `{env.UPSTREAM}`.
    pub upstreams: Vec<Located<String>>,
    /// `lb_policy NAME [args]` (default `random`).
    pub lb_policy: Option<Located<String>>,
    /// `transport http { read_timeout D }`: the longest Caddy waits for the next read from
    /// the upstream (no limit by default).
    pub read_timeout: Option<Located<Duration>>,
    /// `stream_timeout D` (Caddy 2.7+): closes upgraded connections after D, busy or not.
    pub stream_timeout: Option<Located<Duration>>,
    /// Prefixes stripped before forwarding: `handle_path` (its matcher's literal part) and
    /// `uri strip_prefix`, with where each is written.
    pub strip_prefixes: Vec<Located<String>>,
    /// Other rewrites on the way (`rewrite`, `uri replace`, reverse_proxy's `rewrite`).
    pub rewrites: Vec<Located<String>>,
}

/// A parsed Caddyfile.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CaddyConfig {
    pub file: String,
    pub proxies: Vec<ReverseProxy>,
    pub errors: Vec<ProxySyntaxProblem>,
}

impl CaddyConfig {
    /// The `reverse_proxy` that serves `path` on some site: the most specific matching one
    /// (first written wins a tie, as the first matching `handle` wins).
    pub fn proxy_for(&self, path: &str) -> Option<&ReverseProxy> {
        let mut best: Option<&ReverseProxy> = None;
        for p in self.proxies.iter().filter(|p| p.condition.may_match(path)) {
            if best.is_none_or(|b| p.condition.specificity() > b.condition.specificity()) {
                best = Some(p);
            }
        }
        best
    }
}

fn lex(file: &str, text: &str, errors: &mut Vec<ProxySyntaxProblem>) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut line = 1u32;
    let mut column = 0u32;
    let mut chars = text.chars().peekable();
    let mut cur: Option<Token> = None;
    let mut quote: Option<(char, u32, u32)> = None;
    let mut continued = 0u32;
    let push = |tokens: &mut Vec<Token>, cur: &mut Option<Token>| {
        if let Some(t) = cur.take() {
            tokens.push(t);
        }
    };
    while let Some(c) = chars.next() {
        column += 1;
        if let Some((q, _, _)) = quote {
            let t = cur.get_or_insert_with(|| Token {
                text: String::new(),
                quoted: true,
                logical: line - continued,
                line,
                column,
            });
            if c == '\\' && q == '"' && matches!(chars.peek(), Some('"' | '\\')) {
                if let Some(n) = chars.next() {
                    column += 1;
                    t.text.push(n);
                }
            } else if c == q {
                quote = None;
            } else {
                if c == '\n' {
                    line += 1;
                    column = 0;
                }
                t.text.push(c);
            }
            continue;
        }
        match c {
            '\n' => {
                push(&mut tokens, &mut cur);
                line += 1;
                column = 0;
            }
            ' ' | '\t' | '\r' => push(&mut tokens, &mut cur),
            '\\' if matches!(chars.peek(), Some('\n')) => {
                // Line continuation: the next line's tokens belong to this one.
                push(&mut tokens, &mut cur);
                chars.next();
                line += 1;
                column = 0;
                continued += 1;
            }
            '#' if cur.is_none() => {
                // A comment: `#` at the start of a token, to the end of the line.
                while let Some(&n) = chars.peek() {
                    if n == '\n' {
                        break;
                    }
                    chars.next();
                }
            }
            '"' | '`' if cur.is_none() => {
                quote = Some((c, line, column));
                cur = Some(Token {
                    text: String::new(),
                    quoted: true,
                    logical: line - continued,
                    line,
                    column,
                });
            }
            _ => {
                let t = cur.get_or_insert_with(|| Token {
                    text: String::new(),
                    quoted: false,
                    logical: line - continued,
                    line,
                    column,
                });
                t.text.push(c);
            }
        }
    }
    if let Some((q, l, col)) = quote {
        errors.push(ProxySyntaxProblem {
            span: Span::new(file, l, col),
            message: format!("unterminated quote ({q}): the file ends inside a quoted token"),
        });
    }
    push(&mut tokens, &mut cur);
    tokens
}

/// Groups tokens into lines and blocks. A `{` ends a line and opens a block; `}` closes it.
fn nodes(
    file: &str,
    tokens: &[Token],
    pos: &mut usize,
    depth: usize,
    errors: &mut Vec<ProxySyntaxProblem>,
) -> Vec<Node> {
    let mut out = Vec::new();
    let mut words: Vec<Token> = Vec::new();
    while *pos < tokens.len() {
        let t = &tokens[*pos];
        let new_line = words.last().is_some_and(|w| w.logical != t.logical);
        if new_line {
            out.push(Node {
                words: std::mem::take(&mut words),
                block: None,
            });
        }
        *pos += 1;
        if !t.quoted && t.text == "{" {
            let block = nodes(file, tokens, pos, depth + 1, errors);
            out.push(Node {
                words: std::mem::take(&mut words),
                block: Some(block),
            });
            continue;
        }
        if !t.quoted && t.text == "}" {
            if !words.is_empty() {
                out.push(Node {
                    words: std::mem::take(&mut words),
                    block: None,
                });
            }
            if depth == 0 {
                errors.push(ProxySyntaxProblem {
                    span: Span::new(file, t.line, t.column),
                    message: "unexpected `}`: no block is open".to_string(),
                });
                continue;
            }
            return out;
        }
        words.push(t.clone());
    }
    if !words.is_empty() {
        out.push(Node { words, block: None });
    }
    if depth > 0 {
        let span = tokens
            .last()
            .map_or(Span::new(file, 1, 1), |t| Span::new(file, t.line, t.column));
        errors.push(ProxySyntaxProblem {
            span,
            message: "unclosed `{`: the file ends inside a block".to_string(),
        });
    }
    out
}

/// A Caddy duration: Go's time.ParseDuration units plus `d` (days), e.g. `30s`, `1m30s`.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let mut total = Duration::ZERO;
    let mut rest = text;
    if rest.is_empty() {
        return None;
    }
    if rest == "0" {
        return Some(Duration::ZERO);
    }
    while !rest.is_empty() {
        let n = rest
            .bytes()
            .take_while(|b| b.is_ascii_digit() || *b == b'.')
            .count();
        if n == 0 {
            return None;
        }
        let value: f64 = rest[..n].parse().ok()?;
        rest = &rest[n..];
        let u = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        let unit = match &rest[..u] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            "d" => 86_400.0,
            _ => return None,
        };
        rest = &rest[u..];
        total += Duration::try_from_secs_f64(value * unit).ok()?;
    }
    Some(total)
}

struct Walker<'a> {
    file: &'a str,
    snippets: Vec<(String, Vec<Node>)>,
    /// Named matchers of the current site: `@name` → its condition.
    matchers: Vec<(String, Condition)>,
    out: Vec<ReverseProxy>,
    errors: Vec<ProxySyntaxProblem>,
}

fn span_of(file: &str, t: &Token) -> Span {
    Span::new(file, t.line, t.column)
}

impl Walker<'_> {
    /// The condition of a directive's matcher token (`@name`, `/path*`, `*`), if it has one.
    fn matcher(&mut self, t: &Token) -> Option<Condition> {
        if t.quoted {
            return None;
        }
        if let Some(name) = t.text.strip_prefix('@') {
            return match self.matchers.iter().find(|(n, _)| n == name) {
                Some((_, c)) => Some(c.clone()),
                None => {
                    self.errors.push(ProxySyntaxProblem {
                        span: span_of(self.file, t),
                        message: format!("unknown matcher @{name}: no `@{name} …` in this site"),
                    });
                    Some(Condition::default())
                }
            };
        }
        if t.text.starts_with('/') || t.text == "*" {
            return Some(Condition {
                paths: vec![(vec![PathPattern(t.text.clone())], span_of(self.file, t))],
                other: false,
            });
        }
        None
    }

    /// `@name path /a /b`, or `@name { path /a; header … }`: a named matcher.
    fn define_matcher(&mut self, node: &Node) {
        let Some(name) = node.word(0).and_then(|w| w.strip_prefix('@')) else {
            return;
        };
        let mut cond = Condition::default();
        let add =
            |words: &[Token], cond: &mut Condition| match words.first().map(|t| t.text.as_str()) {
                Some("path") => cond.paths.push((
                    words[1..]
                        .iter()
                        .map(|t| PathPattern(t.text.clone()))
                        .collect(),
                    span_of(self.file, &words[0]),
                )),
                Some(_) => cond.other = true,
                None => {}
            };
        if node.words.len() > 1 {
            add(&node.words[1..], &mut cond);
        }
        if let Some(block) = &node.block {
            for n in block {
                if n.block.is_some() {
                    // `not { … }`, `expression { … }`: not a plain path test.
                    cond.other = true;
                }
                add(&n.words, &mut cond);
            }
        }
        self.matchers.push((name.to_string(), cond));
    }

    fn expand_imports(&mut self, block: &[Node]) -> Vec<Node> {
        let mut out = Vec::new();
        for n in block {
            if n.word(0) == Some("import")
                && let Some(name) = n.word(1)
                && let Some((_, body)) = self.snippets.iter().find(|(s, _)| s == name)
            {
                out.extend(body.clone());
                continue;
            }
            out.push(n.clone());
        }
        out
    }

    /// Walks the directives of a site (or of a `handle`/`route` inside it).
    fn directives(
        &mut self,
        site: &[String],
        block: &[Node],
        cond: &Condition,
        strips: &[Located<String>],
        rewrites: &[Located<String>],
    ) {
        let block = self.expand_imports(block);
        for n in block
            .iter()
            .filter(|n| n.word(0).is_some_and(|w| w.starts_with('@')))
        {
            self.define_matcher(n);
        }
        // `uri strip_prefix` and `rewrite` apply to the handlers after them in the same block
        // (their directive order puts them before `reverse_proxy`).
        let mut strips = strips.to_vec();
        let mut rewrites = rewrites.to_vec();
        for n in &block {
            let Some(t0) = n.words.first() else { continue };
            match t0.text.as_str() {
                "uri" if n.word(1) == Some("strip_prefix") => {
                    if let Some(p) = n.words.get(2) {
                        strips.push(Located::new(p.text.clone(), Some(span_of(self.file, t0))));
                    }
                }
                "uri" | "rewrite" => {
                    let text = n
                        .words
                        .iter()
                        .map(|t| t.text.as_str())
                        .collect::<Vec<_>>()
                        .join(" ");
                    rewrites.push(Located::new(text, Some(span_of(self.file, t0))));
                }
                _ => {}
            }
        }
        for n in &block {
            let Some(t0) = n.words.first() else { continue };
            match t0.text.as_str() {
                "handle" | "route" | "handle_path" => {
                    let mut inner = cond.clone();
                    let mut inner_strips = strips.clone();
                    if let Some(m) = n.words.get(1).and_then(|t| self.matcher(t)) {
                        if t0.text == "handle_path" {
                            for (alts, span) in &m.paths {
                                if let Some(p) = alts.first() {
                                    // handle_path strips the matched prefix: the literal part
                                    // before `*` (without its trailing `/`, as strip_prefix
                                    // keeps the path absolute).
                                    let lit = p.0.split('*').next().unwrap_or("");
                                    let lit = lit.strip_suffix('/').unwrap_or(lit);
                                    inner_strips
                                        .push(Located::new(lit.to_string(), Some(span.clone())));
                                }
                            }
                        }
                        inner.paths.extend(m.paths);
                        inner.other |= m.other;
                    } else if t0.text == "handle_path" {
                        self.errors.push(ProxySyntaxProblem {
                            span: span_of(self.file, t0),
                            message: "`handle_path` needs a path matcher".to_string(),
                        });
                    }
                    if let Some(b) = &n.block {
                        self.directives(site, b, &inner, &inner_strips, &rewrites);
                    }
                }
                "reverse_proxy" => self.reverse_proxy(site, n, cond, &strips, &rewrites),
                _ => {}
            }
        }
    }

    fn reverse_proxy(
        &mut self,
        site: &[String],
        n: &Node,
        cond: &Condition,
        strips: &[Located<String>],
        rewrites: &[Located<String>],
    ) {
        let t0 = &n.words[0];
        let mut cond = cond.clone();
        let mut rest = &n.words[1..];
        if let Some(first) = rest.first()
            && let Some(m) = self.matcher(first)
        {
            cond.paths.extend(m.paths);
            cond.other |= m.other;
            rest = &rest[1..];
        }
        let mut rp = ReverseProxy {
            site: site.to_vec(),
            span: span_of(self.file, t0),
            condition: cond,
            upstreams: rest
                .iter()
                .map(|t| Located::new(t.text.clone(), Some(span_of(self.file, t))))
                .collect(),
            lb_policy: None,
            read_timeout: None,
            stream_timeout: None,
            strip_prefixes: strips.to_vec(),
            rewrites: rewrites.to_vec(),
        };
        for sub in n.block.as_deref().unwrap_or(&[]) {
            let Some(k) = sub.words.first() else { continue };
            let span = span_of(self.file, k);
            match k.text.as_str() {
                "to" => rp.upstreams.extend(
                    sub.words[1..]
                        .iter()
                        .map(|t| Located::new(t.text.clone(), Some(span_of(self.file, t)))),
                ),
                "lb_policy" => {
                    let text = sub.words[1..]
                        .iter()
                        .map(|t| t.text.as_str())
                        .collect::<Vec<_>>()
                        .join(" ");
                    rp.lb_policy = Some(Located::new(text, Some(span)));
                }
                "stream_timeout" => rp.stream_timeout = self.duration(sub, 1),
                "rewrite" => {
                    let text = sub
                        .words
                        .iter()
                        .map(|t| t.text.as_str())
                        .collect::<Vec<_>>()
                        .join(" ");
                    rp.rewrites.push(Located::new(text, Some(span)));
                }
                "transport" if sub.word(1) == Some("http") => {
                    for t in sub.block.as_deref().unwrap_or(&[]) {
                        if t.word(0) == Some("read_timeout") {
                            rp.read_timeout = self.duration(t, 1);
                        }
                    }
                }
                _ => {}
            }
        }
        if rp.upstreams.is_empty() {
            self.errors.push(ProxySyntaxProblem {
                span: rp.span.clone(),
                message: "`reverse_proxy` without an upstream".to_string(),
            });
        }
        self.out.push(rp);
    }

    fn duration(&mut self, n: &Node, i: usize) -> Option<Located<Duration>> {
        let t = n.words.get(i)?;
        match parse_duration(&t.text) {
            Some(d) => Some(Located::new(d, Some(span_of(self.file, &n.words[0])))),
            None => {
                self.errors.push(ProxySyntaxProblem {
                    span: span_of(self.file, t),
                    message: format!(
                        "`{} {}`: not a duration (e.g. 30s, 1m)",
                        n.words[0].text, t.text
                    ),
                });
                None
            }
        }
    }
}

/// Reads a Caddyfile. Never fails: what `caddy adapt` would refuse among the lines read is
/// listed in `errors`.
pub fn parse(file: &str, text: &str) -> CaddyConfig {
    let mut errors = Vec::new();
    let tokens = lex(file, text, &mut errors);
    let mut pos = 0;
    let top = nodes(file, &tokens, &mut pos, 0, &mut errors);
    let mut w = Walker {
        file,
        snippets: Vec::new(),
        matchers: Vec::new(),
        out: Vec::new(),
        errors,
    };
    // Snippets: `(name) { … }` anywhere at the top level.
    for n in &top {
        if let Some(name) = n
            .word(0)
            .and_then(|s| s.strip_prefix('('))
            .and_then(|s| s.strip_suffix(')'))
            && let Some(b) = &n.block
        {
            w.snippets.push((name.to_string(), b.clone()));
        }
    }
    let is_snippet = |n: &Node| {
        n.word(0)
            .is_some_and(|s| s.starts_with('(') || s.starts_with("&("))
    };
    // The first line that is neither the global options block nor a snippet: with a block,
    // every site has braces; without, the file is one site whose addresses are that line.
    let first = top
        .iter()
        .position(|n| !n.words.is_empty() && !is_snippet(n));
    let single = first.is_some_and(|i| top[i].block.is_none());
    let sites: Vec<&Node> = top
        .iter()
        .filter(|n| !n.words.is_empty() && n.block.is_some() && !is_snippet(n))
        .collect();
    if single {
        if let Some(first) = first {
            let site: Vec<String> = top[first].words.iter().map(|t| t.text.clone()).collect();
            w.directives(&site, &top[first + 1..], &Condition::default(), &[], &[]);
        }
    } else {
        for n in sites {
            let site: Vec<String> = n
                .words
                .iter()
                .map(|t| t.text.trim_end_matches(',').to_string())
                .collect();
            w.matchers.clear();
            w.directives(
                &site,
                n.block.as_deref().unwrap_or(&[]),
                &Condition::default(),
                &[],
                &[],
            );
        }
    }
    w.errors.sort_by_key(|e| (e.span.line, e.span.column));
    CaddyConfig {
        file: file.to_string(),
        proxies: w.out,
        errors: w.errors,
    }
}

/// A Caddy path pattern as a model path match: `*` any, `/p*` a prefix, `/p` exact, other
/// wildcards a regular expression.
fn model_path(p: &PathPattern) -> super::PathMatch {
    use super::PathMatch as M;
    let s = p.0.as_str();
    if s == "*" {
        return M::Any;
    }
    match s.strip_suffix('*') {
        Some(prefix) if !prefix.contains('*') => M::Prefix(prefix.to_string()),
        _ if !s.contains('*') => M::Exact(s.to_string()),
        _ => M::Regex {
            pattern: format!(
                "^{}$",
                s.split('*')
                    .map(regex::escape)
                    .collect::<Vec<_>>()
                    .join(".*")
            ),
            case_insensitive: true,
        },
    }
}

/// An upstream address as Caddy reads it (`app:8000`, `http://app:8000`, `:8000`,
/// `localhost`, `{env.X}`): scheme, host, port. The `http` transport's default port is 80
/// (443 for `https://`).
fn upstream_parts(raw: &str) -> (String, String, Option<u16>, bool) {
    let dynamic = raw.contains('{');
    let (scheme, rest) = match raw.split_once("://") {
        Some((s, r)) => (s.to_string(), r),
        None => ("http".to_string(), raw),
    };
    let rest = rest.split('/').next().unwrap_or(rest);
    let (host, port) = match rest.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || h.starts_with('[') => {
            (h.trim_matches(['[', ']']).to_string(), p.parse().ok())
        }
        _ => (rest.to_string(), None),
    };
    let port = port.or(match scheme.as_str() {
        "https" | "wss" => Some(443),
        _ if dynamic => None,
        _ => Some(80),
    });
    (scheme, host, port, dynamic)
}

/// `lb_policy` as affinity (reverse_proxy doc, "Load balancing": `ip_hash` and
/// `client_ip_hash` hash the client address, `cookie [name]` sets a cookie (`lb` by
/// default), `header F` / `query K` / `uri_hash` hash that part of the request, `first`
/// always picks the first available upstream; `random` (the default), `round_robin`,
/// `least_conn`, `random_choose` spread requests).
fn affinity(policy: &Located<String>) -> Option<Located<super::Affinity>> {
    use super::Affinity;
    let mut words = policy.value.split_whitespace();
    let name = words.next()?;
    let arg = words.next();
    let a = match name {
        "ip_hash" | "client_ip_hash" => Affinity::ClientAddress,
        "cookie" => Affinity::Cookie(arg.unwrap_or("lb").to_string()),
        "header" => Affinity::Hash {
            key: format!("header {}", arg.unwrap_or("")),
            consistent: false,
        },
        "query" => Affinity::Hash {
            key: format!("query {}", arg.unwrap_or("")),
            consistent: false,
        },
        "uri_hash" => Affinity::Hash {
            key: "$request_uri".to_string(),
            consistent: false,
        },
        "first" => Affinity::Other("lb_policy first".to_string()),
        _ => return None,
    };
    Some(Located::new(a, policy.span.clone()))
}

/// Reads a Caddyfile into the format-neutral model. Caddy's `reverse_proxy` forwards the
/// WebSocket upgrade with no configuration (reverse_proxy doc: "WebSockets" / streaming:
/// "Caddy proxies WebSocket connections"; `modules/caddyhttp/reverseproxy` `handleUpgradeResponse`).
/// The `http` transport's `read_timeout` ("how long to wait for the next read from the
/// backend", no limit by default) is the route's read timeout; it also bounds the silence on
/// an upgraded connection, because it is a deadline on every read of the backend connection.
pub fn to_model(file: &str, text: &str, source: super::ProxySource) -> super::ProxyConfig {
    use super::{
        PathRewrite, ProxyConfig, ProxyKind, ProxyRoute, ProxySite, ProxyTarget, ProxyTimeouts,
        UpgradeForwarding, UpstreamGroup, UpstreamServer,
    };
    let cfg = parse(file, text);
    let mut model = ProxyConfig::new(ProxyKind::Caddy, file, source);
    model.problems = cfg.errors.clone();
    // Most specific path first, file order among equals (the Caddyfile adapter sorts
    // same-named directives by path specificity; the first matching `handle` wins).
    let mut order: Vec<usize> = (0..cfg.proxies.len()).collect();
    // The site addresses of each entry of `model.sites`, as written.
    let mut site_keys: Vec<Vec<String>> = Vec::new();
    order.sort_by_key(|&i| std::cmp::Reverse(cfg.proxies[i].condition.specificity()));
    for i in order {
        let rp = &cfg.proxies[i];
        let site_span = rp.span.clone();
        let site_idx = match site_keys.iter().position(|k| *k == rp.site) {
            Some(i) => i,
            None => {
                // `example.com`, `http://127.0.0.1:8080`, `:80`: the host part names the
                // site, the port part is where it listens.
                let mut hosts = Vec::new();
                let mut listen = Vec::new();
                for a in &rp.site {
                    let bare = a.split_once("://").map_or(a.as_str(), |(_, r)| r);
                    let (host, port) = match bare.rsplit_once(':') {
                        Some((h, p)) if p.bytes().all(|b| b.is_ascii_digit()) => (h, Some(p)),
                        _ => (bare, None),
                    };
                    if !host.is_empty() {
                        hosts.push(Located::new(host.to_string(), None));
                    }
                    listen.push(Located::new(
                        port.map_or_else(|| a.clone(), |p| format!(":{p}")),
                        None,
                    ));
                }
                site_keys.push(rp.site.clone());
                model.sites.push(ProxySite {
                    span: site_span,
                    hosts,
                    listen,
                    routes: Vec::new(),
                });
                model.sites.len() - 1
            }
        };
        let group = model.upstreams.len();
        model.upstreams.push(UpstreamGroup {
            name: String::new(),
            span: rp.span.clone(),
            servers: rp
                .upstreams
                .iter()
                .map(|u| {
                    let (_, host, port, _) = upstream_parts(&u.value);
                    UpstreamServer {
                        raw: u.value.clone(),
                        host,
                        port,
                        backup: false,
                        span: u.span.clone().unwrap_or_else(|| rp.span.clone()),
                    }
                })
                .collect(),
            affinity: rp.lb_policy.as_ref().and_then(affinity),
        });
        let target = rp.upstreams.first().map(|u| {
            let (scheme, host, port, dynamic) = upstream_parts(&u.value);
            ProxyTarget {
                raw: u.clone(),
                scheme,
                host,
                port,
                group: (rp.upstreams.len() > 1).then_some(group),
                dynamic,
            }
        });
        let rewrite = if let Some(r) = rp.rewrites.first() {
            PathRewrite::Opaque {
                directive: r.value.clone(),
                span: r.span.clone(),
            }
        } else if let Some(s) = rp.strip_prefixes.first() {
            PathRewrite::ReplacePrefix {
                prefix: s.value.clone(),
                with: String::new(),
                span: s.span.clone(),
            }
        } else {
            PathRewrite::Unchanged
        };
        // The route's path: the most specific matcher on the way (they are ANDed).
        let paths: Vec<super::PathMatch> = rp
            .condition
            .paths
            .iter()
            .max_by_key(|(alts, _)| alts.iter().map(PathPattern::specificity).max().unwrap_or(0))
            .map(|(alts, _)| alts.iter().map(model_path).collect())
            .unwrap_or_else(|| vec![super::PathMatch::Any]);
        for path in paths {
            let mut route = ProxyRoute::new(rp.span.clone(), path);
            route.target.clone_from(&target);
            route.upgrade = UpgradeForwarding {
                forwarded: true,
                by_default: true,
                missing: Vec::new(),
                evidence: Vec::new(),
            };
            route.rewrite = rewrite.clone();
            route.timeouts = ProxyTimeouts {
                read: rp.read_timeout.clone(),
                send: None,
                tunnel: None,
                // Caddy 2 reverse_proxy, the http transport: "read_timeout … Default: No
                // timeout" (https://caddyserver.com/docs/caddyfile/directives/reverse_proxy#the-http-transport);
                // `stream_timeout` (upgraded connections) also defaults to none. Measured
                // with Caddy 2.6.2: tests/caddy_live.rs holds a websocket through it.
                unlimited: rp.read_timeout.is_none().then_some(super::NoIdleLimit {
                    why: "Caddy's reverse_proxy has no read timeout unless `transport http { read_timeout }` sets one",
                    source: "https://caddyserver.com/docs/caddyfile/directives/reverse_proxy#the-http-transport",
                }),
            };
            model.sites[site_idx].routes.push(route);
        }
    }
    model
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handle_path_strips_and_handle_does_not() {
        let text = "example.com {\n\thandle_path /ws/* {\n\t\treverse_proxy app:8080\n\t}\n\thandle /api/* {\n\t\treverse_proxy api:9000 api2:9000 {\n\t\t\tlb_policy ip_hash\n\t\t\ttransport http {\n\t\t\t\tread_timeout 5s\n\t\t\t}\n\t\t}\n\t}\n\thandle {\n\t\tfile_server\n\t}\n}\n";
        let cfg = parse("Caddyfile", text);
        assert!(cfg.errors.is_empty(), "{:?}", cfg.errors);
        let ws = cfg.proxy_for("/ws/socket.io/").unwrap();
        assert_eq!(ws.upstreams[0].value, "app:8080");
        assert_eq!(ws.strip_prefixes[0].value, "/ws");
        assert_eq!(ws.strip_prefixes[0].span.as_ref().unwrap().line, 2);
        let api = cfg.proxy_for("/api/x").unwrap();
        assert!(api.strip_prefixes.is_empty());
        assert_eq!(api.upstreams.len(), 2);
        assert_eq!(api.lb_policy.as_ref().unwrap().value, "ip_hash");
        assert_eq!(
            api.read_timeout.as_ref().unwrap().value,
            Duration::from_secs(5)
        );
        assert_eq!(
            api.read_timeout
                .as_ref()
                .unwrap()
                .span
                .as_ref()
                .unwrap()
                .line,
            9
        );
        assert!(cfg.proxy_for("/other").is_none());
    }

    #[test]
    fn path_matchers_are_exact_unless_starred() {
        assert!(!PathPattern("/socket.io".into()).matches("/socket.io/"));
        assert!(PathPattern("/socket.io*".into()).matches("/socket.io/"));
        assert!(PathPattern("/ws/*".into()).matches("/ws/socket.io/"));
        assert!(!PathPattern("/ws/*".into()).matches("/ws"));
        assert!(PathPattern("*.js".into()).matches("/a/b.JS"));
    }

    #[test]
    fn named_matchers_snippets_and_single_site() {
        let text = "(proxy) {\n  reverse_proxy @sio app:8000\n}\n:80\n@sio path /socket.io/*\n@ws {\n  header Connection *Upgrade*\n  path /ws*\n}\nimport proxy\nreverse_proxy @ws ws:1 ws:2 {\n  lb_policy cookie\n}\n";
        let cfg = parse("Caddyfile", text);
        assert!(cfg.errors.is_empty(), "{:?}", cfg.errors);
        assert_eq!(cfg.proxies.len(), 2);
        let sio = cfg.proxy_for("/socket.io/").unwrap();
        assert_eq!(sio.upstreams[0].value, "app:8000");
        assert_eq!(sio.site, vec![":80"]);
        let ws = cfg.proxy_for("/ws/x").unwrap();
        assert!(ws.condition.other);
        assert_eq!(ws.lb_policy.as_ref().unwrap().value, "cookie");
    }

    #[test]
    fn durations_and_errors() {
        assert_eq!(parse_duration("1m30s"), Some(Duration::from_secs(90)));
        assert_eq!(parse_duration("1.5h"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_duration("5x"), None);
        let cfg = parse(
            "C",
            "a {\n  reverse_proxy {\n    transport http {\n      read_timeout soon\n    }\n  }\n  reverse_proxy @nope b:1\n\"open\n",
        );
        let lines: Vec<u32> = cfg.errors.iter().map(|e| e.span.line).collect();
        assert_eq!(lines, vec![2, 4, 7, 8, 8], "{:?}", cfg.errors);
        let cfg = parse("C", "a {\n  }\n}\n");
        assert_eq!(cfg.errors.len(), 1);
        assert_eq!(cfg.errors[0].span.line, 3);
    }
}
