//! `proxy.path`: the socket.io path is routed to the app and reaches it unchanged.

use super::{Facts, nothing_served, served};
use crate::catalogue::{Rule, Severity};
use crate::config::proxy::PathRewrite;
use crate::report::CheckResult;

pub static RULE: Rule = Rule {
    id: "proxy.path",
    severity: Severity::Error,
    title: "The socket.io path is proxied to the app, not rewritten away",
    summary: "Some route of the proxy matches the app's socket.io path (from its profile: \
              `/ws/socket.io` for Open WebUI, `/socket.io` by default) and proxies it; the \
              path the app receives still starts with its socket.io path (nginx: a \
              `proxy_pass` URI replaces the part of the path the location matched).",
    why: "A path no location proxies is answered by the proxy itself (404, or the SPA's \
          index.html with 200, which the client cannot parse). nginx's `location /ws/ { \
          proxy_pass http://app/; }` sends `/ws/socket.io/` as `/socket.io/`: the app, which \
          listens on `/ws/socket.io`, answers 404 to every Engine.IO request \
          (<https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_pass>).",
    fix: "Proxy the socket.io path to the app with the path intact: `proxy_pass http://app;` \
          (no URI part) in a location that matches it, or make the URI put the prefix back \
          (`location /ws/ { proxy_pass http://app/ws/; }`).",
};

pub fn check(facts: &Facts) -> Vec<CheckResult> {
    let served = served(facts);
    if served.is_empty() {
        return nothing_served(&RULE, facts);
    }
    served
        .iter()
        .map(|s| {
            let want = s.path.as_str();
            let Some(route) = s.route else {
                return RULE
                    .fire(format!(
                        "no route of the site at {}:{} matches {want}: the proxy answers it \
                         itself (404) and the app never sees it",
                        s.site.span.file, s.site.span.line
                    ))
                    .at(Some(s.site.span.location()))
                    .subject(s.subject())
                    .hint(format!(
                        "add `location {want} {{ proxy_pass http://APP:PORT; … }}`"
                    ));
            };
            let Some(target) = &route.target else {
                return RULE
                    .fire(format!(
                        "{} takes {want} but does not proxy it: the proxy answers Engine.IO \
                         requests itself",
                        s.route_label()
                    ))
                    .at(Some(route.span.location()))
                    .subject(s.subject())
                    .hint(format!(
                        "add a location for {want} that proxies to the app (proxy_pass), or \
                         proxy_pass in {}",
                        s.route_label()
                    ));
            };
            let at = Some(route.span.location());
            let reached = route.rewrite.apply(want);
            let r = match (&route.rewrite, reached) {
                (PathRewrite::Opaque { directive, .. }, _) => RULE.warn(format!(
                    "{} takes {want} and rewrites it (`{directive}`): wsdoctor does not \
                     evaluate rewrites; make sure the app still receives {want}",
                    s.route_label()
                )),
                (_, Some(p)) if p.starts_with(want) => {
                    if target.dynamic {
                        RULE.pass(format!(
                            "{} proxies {want} to {} (a variable: the host is decided per \
                             request)",
                            s.route_label(),
                            target.raw.value
                        ))
                    } else {
                        RULE.pass(format!(
                            "{} proxies {want} to {} unchanged",
                            s.route_label(),
                            target.raw.value
                        ))
                    }
                }
                (rw, Some(p)) => RULE
                    .fire(format!(
                        "{} proxies {want} as {p} (`proxy_pass {}` replaces the matched part \
                         of the path): the app listens on {}, so every Engine.IO request gets \
                         404",
                        s.route_label(),
                        target.raw.value,
                        want.trim_end_matches('/')
                    ))
                    .at(rw.span().map(|sp| sp.location()).or(at.clone()))
                    .hint(format!(
                        "write `proxy_pass {}` without the URI part (the path then goes \
                         unchanged)",
                        strip_uri(&target.raw.value)
                    )),
                (_, None) => RULE.warn(format!(
                    "{} takes {want}; the path the app receives cannot be told from the file",
                    s.route_label()
                )),
            };
            r.at(r_location(&route.rewrite, at))
                .subject(s.subject())
                .evidence("path", want.to_string())
                .evidence(
                    "upstream_path",
                    route.rewrite.apply(want).unwrap_or_default(),
                )
        })
        .collect()
}

fn r_location(
    rewrite: &PathRewrite,
    fallback: Option<crate::report::Location>,
) -> Option<crate::report::Location> {
    rewrite.span().map(|s| s.location()).or(fallback)
}

/// `http://app:8080/ws/` → `http://app:8080`.
fn strip_uri(raw: &str) -> String {
    match raw.split_once("://") {
        Some((scheme, rest)) => {
            let host = rest.split('/').next().unwrap_or(rest);
            format!("{scheme}://{host}")
        }
        None => raw.to_string(),
    }
}
