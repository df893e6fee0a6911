//! `config.cors-origin`: CORS_ALLOW_ORIGIN in the form the app reads it.

use super::{Facts, app_evidence, no_apps};
use crate::apps::{CorsRule, SocketIoApp, origin_of};
use crate::catalogue::{Rule, Severity};
use crate::report::CheckResult;

pub static RULE: Rule = Rule {
    id: "config.cors-origin",
    severity: Severity::Error,
    title: "CORS_ALLOW_ORIGIN lists origins the way Open WebUI reads them",
    summary: "For apps that read allowed origins from a variable (Open WebUI's \
              CORS_ALLOW_ORIGIN): `*` or a `;`-separated list of origins \
              (`scheme://host[:port]`, no path, no trailing slash, no spaces), including the \
              site's own origin (WEBUI_URL) when both are set.",
    why: "Open WebUI 0.12.4 splits CORS_ALLOW_ORIGIN on `;` without trimming (config.py:2192) \
          and, unless the value is exactly `*`, refuses to start when an item has no \
          http(s) scheme or no host (config.py:2172-2205): `chat.example.com`, an empty value, \
          a trailing `;` or `*;https://…` stop the app. The list goes to python-socketio, which \
          compares the browser's Origin header exactly: a comma-separated list, a space, a \
          path or a trailing slash never matches, and the websocket handshake is refused (403 \
          with an empty body; polling says \"<origin> is not an accepted origin.\"). The \
          origin the browser really uses is WEBUI_URL's.",
    fix: "Write `CORS_ALLOW_ORIGIN=https://chat.example.com;https://admin.example.com`: full \
          origins with their scheme, separated by `;`, WEBUI_URL's origin among them.",
};

/// What an item of the list does to the app.
enum Problem {
    /// The app refuses to start.
    Fatal(String),
    /// The app starts, but the item never equals a browser's Origin.
    NeverMatches(String),
}

/// The origin an item was meant to be: `chat.example.com` → `https://chat.example.com` (the
/// site's scheme when it is the site's host), a URL → its origin. None when nothing sensible.
fn corrected(item: &str, site: Option<&url::Url>) -> Option<String> {
    let item = item.trim().trim_end_matches('/');
    if item.is_empty() || item == "*" {
        return None;
    }
    if item.contains("://") {
        return origin_of(item);
    }
    let host = item.split('/').next().unwrap_or(item);
    let scheme = site
        .filter(|s| {
            s.host_str()
                .is_some_and(|h| host.split(':').next() == Some(h))
        })
        .map_or("https", |s| s.scheme());
    origin_of(&format!("{scheme}://{host}"))
}

/// Python's urlparse(item).scheme / .netloc, as config.py's validate_cors_origin sees them
/// (leading spaces are stripped by urlsplit in Python 3.11).
fn scheme_and_netloc(item: &str) -> (String, String) {
    let t = item.trim_start();
    match t.split_once(':') {
        Some((scheme, rest))
            if !scheme.is_empty()
                && scheme
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')) =>
        {
            let netloc = rest
                .strip_prefix("//")
                .map(|r| r.split(['/', '?', '#']).next().unwrap_or("").to_string())
                .unwrap_or_default();
            (scheme.to_ascii_lowercase(), netloc)
        }
        _ => (String::new(), String::new()),
    }
}

pub fn check(facts: &Facts) -> Vec<CheckResult> {
    if facts.apps.is_empty() {
        return no_apps(&RULE);
    }
    facts
        .apps
        .iter()
        .map(|app| app_evidence(judge(app), app))
        .collect()
}

fn judge(app: &SocketIoApp) -> CheckResult {
    let name = &app.service.name;
    let (var, scheme_required) = match &app.profile.cors {
        CorsRule::EnvList {
            var,
            scheme_required,
            ..
        } => (*var, *scheme_required),
        CorsRule::Elsewhere { what } => {
            return RULE.skip(format!("{name}: {what}")).subject(name.clone());
        }
    };
    let Some(origins) = &app.cors_origins else {
        return RULE
            .skip(format!("{name}: no origin list"))
            .subject(name.clone());
    };
    let at = origins
        .span
        .as_ref()
        .map(|s| s.location())
        .or_else(|| app.service.location());
    let items = &origins.value;
    let site = app
        .site_url
        .as_ref()
        .and_then(|s| url::Url::parse(s.value.trim()).ok());
    let site_origin = app.site_origin();
    if items.len() == 1 && items[0] == "*" {
        let r = RULE.pass(format!(
            "{name}: {var} {} * (every origin)",
            if origins.defaulted {
                "defaults to"
            } else {
                "is"
            }
        ));
        return r.subject(name.clone()).at(at);
    }
    // config.py:2196 `os.getenv('CORS_ALLOW_CUSTOM_SCHEME', '').split(';')`: unset gives
    // [''], so an empty scheme passes the scheme test and the host test decides (verified on
    // 0.12.4: 'chat.example.com' → "Invalid URL structure in CORS_ALLOW_ORIGIN").
    let custom: Vec<String> = app
        .service
        .env("CORS_ALLOW_CUSTOM_SCHEME")
        .unwrap_or("")
        .split(';')
        .map(str::to_string)
        .collect();
    let mut problems = Vec::new();
    for item in items {
        let (scheme, netloc) = scheme_and_netloc(item);
        let scheme_ok = ["http", "https"].contains(&scheme.as_str()) || custom.contains(&scheme);
        if scheme_required && (!scheme_ok || netloc.is_empty()) {
            let why = if item.is_empty() {
                "an empty item (an empty value or a stray ';')".to_string()
            } else if item.trim() == "*" {
                "'*' mixed with other origins".to_string()
            } else if !["http", "https"].contains(&scheme.as_str()) {
                format!("'{item}' has no http:// or https:// scheme")
            } else {
                format!("'{item}' has no host")
            };
            problems.push(Problem::Fatal(why));
            continue;
        }
        if item.contains(',') || item.contains(char::is_whitespace) {
            problems.push(Problem::NeverMatches(format!(
                "'{item}' holds a comma or a space: {} separates origins with ';' only and compares them exactly",
                app.profile.name
            )));
            continue;
        }
        match origin_of(item) {
            Some(clean) if clean == *item => {}
            Some(clean) => problems.push(Problem::NeverMatches(format!(
                "'{item}' is not an origin (it never equals a browser's Origin); the origin is '{clean}'"
            ))),
            None => problems.push(Problem::NeverMatches(format!(
                "'{item}' is not a scheme://host[:port] origin"
            ))),
        }
    }
    let listed_site = site_origin
        .as_ref()
        .is_some_and(|w| items.iter().any(|o| o == w));
    if problems.is_empty()
        && let Some(w) = &site_origin
        && !listed_site
    {
        problems.push(Problem::NeverMatches(format!(
            "{}'s origin {w} is not in the list: the site's own pages are refused",
            app.site_url
                .as_ref()
                .map_or("the site URL", |s| s.source.as_str())
        )));
    }
    if problems.is_empty() {
        return RULE
            .pass(format!("{name}: {var} lists {} origin(s)", items.len()))
            .subject(name.clone())
            .at(at);
    }
    // The corrected list: every item made an origin, broken ones dropped, the site's added.
    let mut fixed: Vec<String> = Vec::new();
    for piece in items.iter().flat_map(|o| o.split([',', ' ', '\t'])) {
        if let Some(o) = corrected(piece, site.as_ref())
            && !fixed.contains(&o)
        {
            fixed.push(o);
        }
    }
    if let Some(w) = &site_origin
        && !fixed.contains(w)
    {
        fixed.push(w.clone());
    }
    let fatal = problems.iter().any(|p| matches!(p, Problem::Fatal(_)));
    let text: Vec<String> = problems
        .into_iter()
        .map(|p| match p {
            Problem::Fatal(s) | Problem::NeverMatches(s) => s,
        })
        .collect();
    let message = if fatal {
        format!(
            "{name}: {}: {} refuses to start ('ValueError: Invalid … in CORS_ALLOW_ORIGIN')",
            text.join("; "),
            app.profile.name
        )
    } else {
        format!("{name}: {}", text.join("; "))
    };
    let hint = if fixed.is_empty() {
        format!("{var}=https://<your site's host> (or * to allow every origin)")
    } else {
        format!("{var}={}", fixed.join(";"))
    };
    RULE.fire(message)
        .hint(hint)
        .evidence("refuses_to_start", fatal)
        .subject(name.clone())
        .at(at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::config::test_support::*;

    fn run(vars: &[(&str, &str)]) -> Vec<&'static str> {
        let d = deployment(vec![with_env(
            service("w", "ghcr.io/open-webui/open-webui:main", 2),
            vars,
        )]);
        statuses(&check(&Facts::new(&d, None)))
    }

    #[test]
    fn cases() {
        assert_eq!(run(&[]), ["pass"]);
        assert_eq!(
            run(&[(
                "CORS_ALLOW_ORIGIN",
                "https://a.example;https://b.example:8443"
            )]),
            ["pass"]
        );
        assert_eq!(
            run(&[("CORS_ALLOW_ORIGIN", "https://a.example,https://b.example")]),
            ["fail"]
        );
        assert_eq!(
            run(&[("CORS_ALLOW_ORIGIN", "https://a.example/")]),
            ["fail"]
        );
        assert_eq!(
            run(&[
                ("CORS_ALLOW_ORIGIN", "https://a.example"),
                ("WEBUI_URL", "https://chat.example")
            ]),
            ["fail"]
        );
        assert_eq!(
            run(&[
                ("CORS_ALLOW_ORIGIN", "https://chat.example"),
                ("WEBUI_URL", "https://chat.example/")
            ]),
            ["pass"]
        );
    }

    fn hint(vars: &[(&str, &str)]) -> String {
        let d = deployment(vec![with_env(
            service("w", "ghcr.io/open-webui/open-webui:main", 2),
            vars,
        )]);
        check(&Facts::new(&d, None))[0]
            .hint
            .clone()
            .unwrap_or_default()
    }

    #[test]
    fn an_origin_without_scheme_stops_the_app_and_the_fix_adds_one() {
        let vars = [("CORS_ALLOW_ORIGIN", "chat.example.com")];
        assert_eq!(run(&vars), ["fail"]);
        assert_eq!(hint(&vars), "CORS_ALLOW_ORIGIN=https://chat.example.com");
        // The site's scheme wins for the site's host.
        let vars = [
            ("CORS_ALLOW_ORIGIN", "chat.example.com:8080"),
            ("WEBUI_URL", "http://chat.example.com:8080/"),
        ];
        assert_eq!(
            hint(&vars),
            "CORS_ALLOW_ORIGIN=http://chat.example.com:8080"
        );
        // An empty value, a trailing ';' and '*' among origins stop the app too.
        assert_eq!(run(&[("CORS_ALLOW_ORIGIN", "")]), ["fail"]);
        assert_eq!(
            run(&[("CORS_ALLOW_ORIGIN", "https://a.example;")]),
            ["fail"]
        );
        assert_eq!(
            hint(&[("CORS_ALLOW_ORIGIN", "https://a.example;")]),
            "CORS_ALLOW_ORIGIN=https://a.example"
        );
        assert_eq!(
            run(&[("CORS_ALLOW_ORIGIN", "*;https://a.example")]),
            ["fail"]
        );
        // A space after ';' is kept by the app: never matches.
        assert_eq!(
            run(&[("CORS_ALLOW_ORIGIN", "https://a.example; https://b.example")]),
            ["fail"]
        );
    }

    #[test]
    fn the_site_origin_must_be_allowed() {
        let vars = [
            ("CORS_ALLOW_ORIGIN", "https://admin.example"),
            ("WEBUI_URL", "https://chat.example"),
        ];
        assert_eq!(run(&vars), ["fail"]);
        assert_eq!(
            hint(&vars),
            "CORS_ALLOW_ORIGIN=https://admin.example;https://chat.example"
        );
    }

    #[test]
    fn apps_without_an_origin_variable_are_skipped() {
        let d = deployment(vec![with_command(
            service("bot", "python:3.12", 2),
            &["chainlit", "run", "app.py"],
        )]);
        let r = check(&Facts::new(&d, None));
        assert_eq!(statuses(&r), ["skip"]);
        assert!(r[0].message.contains("config.toml"), "{}", r[0].message);
    }
}
