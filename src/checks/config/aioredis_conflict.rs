//! `config.aioredis-conflict`: python-socketio with the old aioredis package.

use super::Facts;
use crate::catalogue::{Rule, Severity};
use crate::report::CheckResult;

pub static RULE: Rule = Rule {
    id: "config.aioredis-conflict",
    severity: Severity::Error,
    title: "python-socketio does not use the old aioredis",
    summary: "The project's Python requirements (requirements*.txt, pyproject.toml) do not \
              list `aioredis`, nor a redis-py older than 4.2, next to python-socketio.",
    why: "python-socketio 5's AsyncRedisManager imports `redis.asyncio` and falls back to the \
          `aioredis` package when redis-py is older than 4.2. aioredis 1.x has another API \
          (the manager logs 'Cannot receive from redis... retrying' forever), and aioredis 2.x \
          fails to import on Python 3.11+ ('duplicate base class TimeoutError'). The package \
          is unmaintained; its code moved into redis-py as redis.asyncio.",
    fix: "Remove aioredis and require `redis>=4.2` (any current redis-py).",
};

pub fn check(facts: &Facts) -> Vec<CheckResult> {
    // package.json files are read for app recognition; aioredis is a Python matter.
    let files: Vec<_> = facts
        .deployment
        .python_requirements
        .iter()
        .filter(|f| !f.path.ends_with("package.json"))
        .collect();
    if files.is_empty() {
        return vec![RULE.skip("no Python requirements file in the project directory")];
    }
    let mut out = Vec::new();
    for f in &files {
        let socketio = f
            .packages
            .iter()
            .any(|p| p.name == "python-socketio" || p.name == "python-engineio");
        for p in &f.packages {
            let old_redis = p.name == "redis" && p.pins_below(4, 2);
            if p.name == "aioredis" || old_redis {
                let what = if old_redis {
                    format!(
                        "redis-py pinned below 4.2 ({}): python-socketio falls back to aioredis",
                        p.spec
                    )
                } else {
                    format!("aioredis{} is required", p.spec)
                };
                let r = if socketio {
                    RULE.fire(format!("{}: {what}", f.path))
                } else {
                    RULE.warn(format!(
                        "{}: {what} (python-socketio may come from elsewhere)",
                        f.path
                    ))
                };
                out.push(
                    r.at(Some(p.span.location()))
                        .hint("remove aioredis and require redis>=4.2"),
                );
            }
        }
    }
    if out.is_empty() {
        out.push(RULE.pass(format!(
            "{}: no aioredis and no redis-py older than 4.2",
            files.iter().map(|f| f.path.as_str()).collect::<Vec<_>>().join(", ")
        )));
    }
    out
}
