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
    if let Some(skip) = super::compose_only(
        &RULE,
        facts,
        "kubectl does not interpolate ${VAR} (only $(VAR) between env entries, which wsdoctor expands)",
    ) {
        return skip;
    }
    let d = facts.deployment;
    let findings: Vec<&crate::config::InterpolationFinding> = d
        .interpolation
        .iter()
        .chain(
            d.all_env_files()
                .into_iter()
                .flat_map(|f| f.interpolation.iter()),
        )
        .collect();
    let mut out = Vec::new();
    // An unset variable is one finding however often it is used: the fix is one line in .env.
    let mut unset: Vec<(&str, Vec<&crate::config::InterpolationFinding>)> = Vec::new();
    let mut passthrough = 0;
    for f in &findings {
        if f.kind == InterpolationProblem::Unset && is_passthrough(facts, f) {
            passthrough += 1;
            continue;
        }
        if f.kind == InterpolationProblem::Unset {
            match unset.iter_mut().find(|(v, _)| *v == f.variable) {
                Some((_, uses)) => uses.push(f),
                None => unset.push((&f.variable, vec![f])),
            }
        }
    }
    for (variable, uses) in unset {
        let first = uses[0];
        let mut services: Vec<&str> = uses.iter().filter_map(|u| u.service.as_deref()).collect();
        services.dedup();
        let places = if uses.len() > 1 {
            format!(" ({} places)", uses.len())
        } else {
            String::new()
        };
        let mut r = RULE
            .warn(format!(
                "${{{variable}}} is not set and has no default{places}: compose substitutes an empty string"
            ))
            .hint(format!(
                "set {variable} in the project .env or the shell, or write ${{{variable}:-default}}"
            ))
            .at(first.span.as_ref().map(|s| s.location()))
            .evidence("variable", variable.to_string())
            .evidence("uses", uses.len());
        if services.len() == 1 {
            r = r.subject(services[0].to_string());
        }
        out.push(r);
    }
    for f in findings {
        let r = match &f.kind {
            InterpolationProblem::Unset => continue,
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
        let mut r = r
            .at(f.span.as_ref().map(|s| s.location()))
            .evidence("variable", f.variable.clone());
        if let Some(s) = &f.service {
            r = r.subject(s.clone());
        }
        out.push(r);
    }
    if out.is_empty() {
        out.push(RULE.pass(if passthrough == 0 {
            "every ${VAR} has a value or a default".to_string()
        } else {
            format!(
                "every ${{VAR}} has a value or a default, but for {passthrough} pass-through \
                 environment entries (KEY=${{KEY}}) left unset on purpose"
            )
        }));
    }
    out
}

/// `KEY: ${KEY}` under `environment:` is the pass-through idiom: the container gets an empty
/// value, which apps read as "not configured". Flagging every optional setting of a large
/// file (Flowise has a hundred) would bury the findings that matter, so such an entry is
/// only counted. A variable inside a larger value (`redis://:${REDIS_PASSWORD}@redis`), a
/// port, an image or a command is still reported.
fn is_passthrough(facts: &Facts, f: &crate::config::InterpolationFinding) -> bool {
    let Some(span) = &f.span else { return false };
    let name = f.variable.as_str();
    facts.deployment.services.iter().any(|s| {
        s.environment.values().any(|v| {
            // Same line: a list item's finding points at the item, its value after the `=`.
            v.span
                .as_ref()
                .is_some_and(|s| s.file == span.file && s.line == span.line)
                && v.raw.as_deref().is_some_and(|raw| {
                    let raw = raw.trim();
                    raw == format!("${{{name}}}") || raw == format!("${name}")
                })
        })
    })
}
