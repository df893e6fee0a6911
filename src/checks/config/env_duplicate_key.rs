//! `config.env-duplicate-key`: a key defined twice in one .env file.

use std::collections::BTreeMap;

use super::Facts;
use crate::catalogue::{Rule, Severity};
use crate::report::CheckResult;

pub static RULE: Rule = Rule {
    id: "config.env-duplicate-key",
    severity: Severity::Warning,
    title: "No key is defined twice in a .env file",
    summary: "Looks for a key that appears more than once in the same .env or env_file.",
    why: "The last definition wins (in docker compose and in python-dotenv), so editing the \
          first one — the one people find first — changes nothing. This is how a corrected \
          REDIS_URL 'does not take effect'.",
    fix: "Delete the earlier definition, or merge the two into one line.",
};

pub fn check(facts: &Facts) -> Vec<CheckResult> {
    let d = facts.deployment;
    let files = d.all_env_files();
    if files.is_empty() {
        return vec![RULE.skip("no .env or env_file in this deployment")];
    }
    let mut out = Vec::new();
    for f in files {
        let mut first_line: BTreeMap<&str, u32> = BTreeMap::new();
        for e in &f.entries {
            if let Some(first) = first_line.get(e.key.as_str()) {
                out.push(
                    RULE.fire(format!(
                        "{} is defined again (first on line {first}); this later definition wins",
                        e.key
                    ))
                    .at(Some(e.key_span.location()))
                    .hint(format!("keep one definition of {}", e.key))
                    .evidence("key", e.key.clone())
                    .evidence("first_line", *first),
                );
            } else {
                first_line.insert(&e.key, e.key_span.line);
            }
        }
    }
    if out.is_empty() {
        out.push(RULE.pass("no key is defined twice"));
    }
    out
}
