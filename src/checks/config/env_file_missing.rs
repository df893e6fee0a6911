//! `config.env-file-missing`: an `env_file:` that does not exist.

use super::Facts;
use crate::catalogue::{Rule, Severity};
use crate::report::CheckResult;

pub static RULE: Rule = Rule {
    id: "config.env-file-missing",
    severity: Severity::Error,
    title: "Every env_file exists",
    summary: "Each file named in a service's `env_file:` exists (paths are relative to the \
              compose file).",
    why: "docker compose refuses to start when a required env_file is missing. With \
          `required: false` it starts without the file, and every variable the file was meant \
          to give the container (REDIS_URL among them) is silently absent.",
    fix: "Create the file, correct the path (relative to the compose file's directory), or \
          mark it `required: false` if it is truly optional.",
};

pub fn check(facts: &Facts) -> Vec<CheckResult> {
    if let Some(skip) = super::compose_only(
        &RULE,
        facts,
        "env_file is compose's; Kubernetes takes env from Secrets and ConfigMaps",
    ) {
        return skip;
    }
    let d = facts.deployment;
    let mut out = Vec::new();
    // `required: false` files may be absent by design: compose skips them, and so do we.
    for m in d.missing_env_files.iter().filter(|m| m.required) {
        out.push(
            RULE.fire(format!(
                "env_file {} does not exist: docker compose refuses to start",
                m.path
            ))
            .at(m.span.as_ref().map(|s| s.location()))
            .subject(m.service.clone())
            .hint("create the file, fix the path (relative to the compose file), or mark it required: false"),
        );
    }
    if out.is_empty() {
        let count: usize = d.services.iter().map(|s| s.env_files.len()).sum();
        if count == 0 {
            out.push(RULE.skip("no service uses env_file"));
        } else {
            let optional = d.missing_env_files.len();
            out.push(RULE.pass(if optional == 0 {
                format!("all {count} env_file entries exist")
            } else {
                format!("every required env_file exists ({optional} optional one(s) absent)")
            }));
        }
    }
    out
}
