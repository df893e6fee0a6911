//! `config.cors-origin`: CORS_ALLOW_ORIGIN in the form the app reads it.

use super::{Facts, no_apps};
use crate::catalogue::{Rule, Severity};
use crate::report::CheckResult;

pub static RULE: Rule = Rule {
    id: "config.cors-origin",
    severity: Severity::Error,
    title: "CORS_ALLOW_ORIGIN lists origins the way Open WebUI reads them",
    summary: "CORS_ALLOW_ORIGIN is `*` or a `;`-separated list of origins \
              (`scheme://host[:port]`, no path, no trailing slash), and includes WEBUI_URL's \
              origin when both are set.",
    why: "Open WebUI splits CORS_ALLOW_ORIGIN on `;` and hands the list to python-socketio, \
          which compares the browser's Origin header exactly. A comma-separated list becomes \
          one origin that matches nothing; a trailing slash or a path never matches. The \
          websocket handshake is then refused (403 with an empty body; polling says \
          \"<origin> is not an accepted origin.\").",
    fix: "Write `CORS_ALLOW_ORIGIN=https://chat.example.com;https://admin.example.com`: origins \
          only, separated by `;`.",
};

fn origin_of(url: &str) -> Option<String> {
    let u = url::Url::parse(url.trim()).ok()?;
    Some(u.origin().ascii_serialization()).filter(|o| o != "null")
}

pub fn check(facts: &Facts) -> Vec<CheckResult> {
    if facts.apps.is_empty() {
        return no_apps(&RULE);
    }
    facts
        .apps
        .iter()
        .map(|app| {
            let name = &app.service.name;
            let var = app.service.environment.get("CORS_ALLOW_ORIGIN");
            let at = var.and_then(|v| v.span.as_ref()).map(|s| s.location());
            let Some(value) = var.and_then(|v| v.value.as_deref()) else {
                return RULE
                    .pass(format!("{name}: CORS_ALLOW_ORIGIN defaults to * (every origin)"))
                    .subject(name.clone())
                    .at(app.service.location());
            };
            let origins: Vec<&str> = value.split(';').map(str::trim).filter(|o| !o.is_empty()).collect();
            let mut problems = Vec::new();
            for o in &origins {
                if *o == "*" {
                    continue;
                }
                if o.contains(',') || o.contains(' ') {
                    problems.push(format!("'{o}' looks like a list: Open WebUI separates origins with ';'"));
                    continue;
                }
                match origin_of(o) {
                    Some(clean) if clean == *o => {}
                    Some(clean) => problems.push(format!("'{o}' is not an origin (it never equals a browser's Origin); write '{clean}'")),
                    None => problems.push(format!("'{o}' is not a scheme://host[:port] origin")),
                }
            }
            let webui = app.service.env("WEBUI_URL").and_then(origin_of);
            if problems.is_empty()
                && let Some(w) = &webui
                && !origins.contains(&"*")
                && !origins.iter().any(|o| o == w)
            {
                problems.push(format!("WEBUI_URL's origin {w} is not in the list: the app's own pages are refused"));
            }
            let r = if problems.is_empty() {
                RULE.pass(format!("{name}: CORS_ALLOW_ORIGIN lists {} origin(s)", origins.len()))
            } else {
                let fixed: Vec<String> = origins
                    .iter()
                    .flat_map(|o| o.split([',', ' ']))
                    .filter(|o| !o.is_empty())
                    .map(|o| origin_of(o).unwrap_or_else(|| o.to_string()))
                    .collect();
                RULE.fire(format!("{name}: {}", problems.join("; ")))
                    .hint(format!("CORS_ALLOW_ORIGIN={}", fixed.join(";")))
            };
            r.subject(name.clone()).at(at)
        })
        .collect()
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
}
