//! `config.interpolation-unset`: `${VAR}` with no value and no default.

use super::Facts;
use crate::catalogue::{Rule, Severity};
use crate::config::InterpolationProblem;
use crate::report::CheckResult;

pub static RULE: Rule = Rule {
    id: "config.interpolation-unset",
    severity: Severity::Warning,
    title: "Every ${VAR} has a value",
    summary: "Each `${VAR}` / `$VAR` in the compose files and .env values is set (in the shell \
              or the project .env) or has a default (`${VAR:-default}`).",
    why: "docker compose replaces an unset variable with an empty string and only prints a \
          warning, so `redis://:${REDIS_PASSWORD}@redis:6379` quietly becomes a URL with an \
          empty password. `${VAR:?message}` unset, or a malformed `${`, stops compose.",
    fix: "Set the variable in the project .env (next to the compose file, or the --env-file \
          you use) or in the shell, or give a default: `${VAR:-value}`. Remember that the \
          project .env feeds interpolation only; containers get variables through \
          `environment:` or `env_file:`.",
};

pub fn check(facts: &Facts) -> Vec<CheckResult> {
    let d = facts.deployment;
    let findings = d.interpolation.iter().chain(
        d.all_env_files()
            .into_iter()
            .flat_map(|f| f.interpolation.iter()),
    );
    let mut out = Vec::new();
    for f in findings {
        let at = f.span.as_ref().map(|s| s.location());
        let mut r = match &f.kind {
            InterpolationProblem::Unset => RULE
                .warn(format!(
                    "${{{}}} is not set and has no default: compose substitutes an empty string",
                    f.variable
                ))
                .hint(format!(
                    "set {} in the project .env or the shell, or write ${{{}:-default}}",
                    f.variable, f.variable
                )),
            InterpolationProblem::Required(msg) => RULE
                .fail(format!(
                    "${{{}}} is required and not set: compose refuses to start ({msg})",
                    f.variable
                ))
                .hint(format!(
                    "set {} in the project .env or the shell",
                    f.variable
                )),
            InterpolationProblem::Invalid(msg) => RULE
                .fail(format!("invalid interpolation: {msg}"))
                .hint("close the brace, or write $$ for a literal $"),
        };
        r = r.at(at).evidence("variable", f.variable.clone());
        if let Some(s) = &f.service {
            r = r.subject(s.clone());
        }
        out.push(r);
    }
    if out.is_empty() {
        out.push(RULE.pass("every ${VAR} has a value or a default"));
    }
    out
}
