//! `config.env-syntax`: every line of every .env file reads as `KEY=value`.

use super::Facts;
use crate::catalogue::{Rule, Severity};
use crate::report::CheckResult;

pub static RULE: Rule = Rule {
    id: "config.env-syntax",
    severity: Severity::Error,
    title: ".env files parse",
    summary: "Every line of the project .env and of each env_file is a comment, a blank line or \
              KEY=value with valid quoting.",
    why: "docker compose refuses a .env file with a line it cannot parse, so the whole \
          deployment fails to start; python-dotenv (which Open WebUI and Chainlit use when run \
          outside Docker) silently skips the line instead, so the same file behaves differently \
          in and out of containers. An unclosed quote swallows every line after it.",
    fix: "Fix the line named: keys are letters, digits, `_`, `.`, `-`; quote values that contain \
          spaces or `#` (`KEY=\"a # b\"`), close every quote, and percent-encode nothing here \
          (quoting is enough in .env).",
};

pub fn check(facts: &Facts) -> Vec<CheckResult> {
    let d = facts.deployment;
    let files = d.all_env_files();
    if files.is_empty() {
        return vec![RULE.skip("no .env or env_file in this deployment")];
    }
    let mut out = Vec::new();
    for f in &files {
        for e in &f.errors {
            out.push(
                RULE.fire(format!("{}: {}", f.path, e.message))
                    .at(Some(e.span.location()))
                    .hint("docker compose refuses this file; python-dotenv skips the line"),
            );
        }
    }
    if out.is_empty() {
        let names: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
        out.push(RULE.pass(format!("{} parse cleanly", names.join(", "))));
    }
    out
}
