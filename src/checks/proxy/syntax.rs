//! `proxy.syntax`: the proxy would refuse its configuration file.

use super::Facts;
use crate::catalogue::{Rule, Severity};
use crate::report::CheckResult;

pub static RULE: Rule = Rule {
    id: "proxy.syntax",
    severity: Severity::Error,
    title: "The proxy configuration parses",
    summary: "Each proxy configuration file (and every file it includes) is read as the proxy \
              reads it: balanced braces, terminated directives, block directives with their \
              block, a `proxy_pass` URI only where nginx allows one.",
    why: "A file the proxy refuses is not running: `nginx -t` fails, the container exits or \
          keeps the previous configuration after a reload, and the site answers from old \
          settings (or not at all) whatever the file says. Every other proxy check reads the \
          file as written, which is not what runs.",
    fix: "Fix the line named (the message is nginx's own, as `nginx -t` prints it), then \
          check with `docker compose exec <proxy> nginx -t` and reload.",
};

pub fn check(facts: &Facts) -> Vec<CheckResult> {
    let proxies = &facts.deployment.proxies;
    if proxies.is_empty() {
        return vec![RULE.skip(
            "no proxy configuration found (none mounted into an nginx/Caddy/HAProxy/Traefik \
             service; give --proxy-config FILE)",
        )];
    }
    let mut out = Vec::new();
    for config in proxies {
        if config.problems.is_empty() {
            let mut msg = format!(
                "{}: {} would accept it ({} file{} read)",
                config.file,
                config.kind.name(),
                config.files.len(),
                if config.files.len() == 1 { "" } else { "s" }
            );
            if !config.unread_includes.is_empty() {
                let names: Vec<&str> = config
                    .unread_includes
                    .iter()
                    .map(|i| i.value.as_str())
                    .collect();
                msg.push_str(&format!(
                    "; not read (inside the container only): {}",
                    names.join(", ")
                ));
            }
            out.push(RULE.pass(msg).subject(config.file.clone()));
            continue;
        }
        // nginx stops at the first error of a file; later ones may only follow from it.
        let mut files_seen = Vec::new();
        for p in &config.problems {
            if files_seen.contains(&&p.span.file) {
                continue;
            }
            files_seen.push(&p.span.file);
            let more = config
                .problems
                .iter()
                .filter(|q| q.span.file == p.span.file)
                .count()
                - 1;
            out.push(
                RULE.fire(format!(
                    "{} would refuse {}: {} in {}:{}{}",
                    config.kind.name(),
                    config.file,
                    p.message,
                    p.span.file,
                    p.span.line,
                    if more > 0 {
                        format!(
                            " (and {more} more problem{} after it)",
                            if more == 1 { "" } else { "s" }
                        )
                    } else {
                        String::new()
                    }
                ))
                .at(Some(p.span.location()))
                .subject(config.file.clone())
                .evidence("message", p.message.clone())
                .hint(format!(
                    "fix {}:{} and run `{}` before reloading",
                    p.span.file,
                    p.span.line,
                    match config.kind {
                        crate::config::proxy::ProxyKind::Nginx => "nginx -t",
                        crate::config::proxy::ProxyKind::Caddy => "caddy validate",
                        crate::config::proxy::ProxyKind::Haproxy => "haproxy -c -f FILE",
                        crate::config::proxy::ProxyKind::Traefik => "traefik --configFile FILE",
                    }
                )),
            );
        }
    }
    out
}
