//! `docker.ports`: the app's published ports, and a host port published twice or already
//! taken.

use std::collections::BTreeMap;

use super::{Role, Roles};
use crate::catalogue::{Rule, Severity};
use crate::probe::docker::{ContainerFacts, DockerObservations};
use crate::report::CheckResult;

pub static PORTS: Rule = Rule {
    id: "docker.ports",
    severity: Severity::Error,
    title: "Published ports free and unique",
    summary: "Lists the host ports the deployment's containers publish (HostConfig.PortBindings) \
              and finds a host port two containers ask for, or one the engine could not bind.",
    why: "The engine binds each published host port once: a second container asking for it \
          stays `Created` with `Bind for 0.0.0.0:8080 failed: port is already allocated`, and a \
          port held by another process gives `address already in use`. The app is then not \
          reachable where the proxy or users expect it.",
    fix: "Give each service its own host port in `ports:` (or stop the other holder: `docker ps \
          --filter publish=PORT`, `ss -ltnp 'sport = :PORT'`), then `docker compose up -d`.",
};

/// One requested host binding.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Binding {
    host_port: u16,
    proto: String,
    host_ip: String,
    container_port: String,
}

fn bindings(c: &ContainerFacts) -> Vec<Binding> {
    let mut out = Vec::new();
    let map = c
        .inspect
        .host_config
        .as_ref()
        .and_then(|h| h.port_bindings.as_ref());
    for (port, binds) in map.into_iter().flatten() {
        let proto = port.split('/').nth(1).unwrap_or("tcp").to_string();
        for b in binds.iter().flatten() {
            // An empty or absent HostPort is an ephemeral port the engine picks: no clash.
            let Some(host_port) = b.host_port.as_deref().and_then(|p| p.parse::<u16>().ok()) else {
                continue;
            };
            out.push(Binding {
                host_port,
                proto: proto.clone(),
                host_ip: b
                    .host_ip
                    .clone()
                    .filter(|i| !i.is_empty())
                    .unwrap_or_else(|| "0.0.0.0".into()),
                container_port: port.clone(),
            });
        }
    }
    out.sort();
    out
}

/// Two host addresses overlap when equal or when either is a wildcard.
fn overlaps(a: &str, b: &str) -> bool {
    let wild = |x: &str| x == "0.0.0.0" || x == "::";
    a == b || wild(a) || wild(b)
}

fn is_bind_error(e: &str) -> bool {
    e.contains("port is already allocated") || e.contains("address already in use")
}

pub fn judge(obs: &DockerObservations, roles: &Roles<'_>) -> Vec<CheckResult> {
    if roles.all.is_empty() {
        return vec![PORTS.skip("no containers to check (see docker.containers)")];
    }
    let mut published = Vec::new();
    let mut conflicts: Vec<String> = Vec::new();
    let mut claims: BTreeMap<(u16, String), Vec<(String, String)>> = BTreeMap::new();
    for (c, role) in &roles.all {
        for b in bindings(c) {
            if *role == Role::App {
                published.push(format!(
                    "{}: {}:{}->{}",
                    c.name(),
                    b.host_ip,
                    b.host_port,
                    b.container_port
                ));
            }
            claims
                .entry((b.host_port, b.proto.clone()))
                .or_default()
                .push((c.name().to_string(), b.host_ip.clone()));
        }
    }
    // Within the deployment: the same host port asked for twice.
    for ((port, proto), who) in &claims {
        for (i, (a, ip_a)) in who.iter().enumerate() {
            for (b, ip_b) in &who[i + 1..] {
                if a != b && overlaps(ip_a, ip_b) {
                    conflicts.push(format!(
                        "host port {port}/{proto} is published by both {a} and {b}"
                    ));
                }
            }
        }
    }
    // A container the engine could not start because its port was taken by something else.
    for (c, _) in &roles.all {
        let error = c
            .inspect
            .state
            .as_ref()
            .and_then(|s| s.error.as_deref())
            .unwrap_or("");
        let running = c.inspect.state.as_ref().and_then(|s| s.running) == Some(true);
        if running || !is_bind_error(error) {
            continue;
        }
        let holders: Vec<String> = bindings(c)
            .iter()
            .flat_map(|b| holders_of(obs, c, b))
            .collect();
        let already = conflicts.iter().any(|x| x.contains(c.name()));
        if !already {
            if holders.is_empty() {
                conflicts.push(format!(
                    "{} could not bind its host port: {error}",
                    c.name()
                ));
            } else {
                conflicts.push(format!(
                    "{} could not bind its host port, held by {}: {error}",
                    c.name(),
                    holders.join(", ")
                ));
            }
        }
    }
    let result = if conflicts.is_empty() {
        if published.is_empty() {
            PORTS.pass("no host port clash; the app publishes no port (reached through a proxy or the network)")
        } else {
            PORTS.pass(format!(
                "no host port clash; the app publishes {}",
                published.join(", ")
            ))
        }
    } else {
        PORTS
            .fire(conflicts.join("; "))
            .hint("give each service its own host port in `ports:`, or stop the holder (`docker ps --filter publish=PORT`)")
    };
    vec![
        result
            .evidence("published", published)
            .evidence("conflicts", conflicts),
    ]
}

/// Running containers outside the selection that publish `b`'s host port.
fn holders_of(obs: &DockerObservations, c: &ContainerFacts, b: &Binding) -> Vec<String> {
    obs.all_containers
        .iter()
        .filter(|s| s.id.as_deref() != c.inspect.id.as_deref())
        .filter(|s| {
            s.ports.iter().flatten().any(|p| {
                p.public_port == Some(b.host_port)
                    && overlaps(p.ip.as_deref().unwrap_or("0.0.0.0"), &b.host_ip)
            })
        })
        .filter_map(|s| {
            s.names
                .as_ref()?
                .first()
                .map(|n| n.trim_start_matches('/').to_string())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::docker::{DockerScope, fixtures};
    use crate::report::Status;

    #[test]
    fn recorded_app_port_is_listed() {
        let obs = fixtures::observations(&["app", "beagle-redis"]);
        let results = judge(&obs, &Roles::of(&obs, &DockerScope::default()));
        assert_eq!(results[0].status, Status::Pass, "{:#?}", results[0]);
        assert_eq!(
            results[0].evidence["published"][0],
            "beagle-app-1: 127.0.0.1:18080->8080/tcp"
        );
    }

    #[test]
    fn recorded_port_published_twice_fails() {
        let obs = fixtures::observations(&["app", "late"]);
        let results = judge(&obs, &Roles::of(&obs, &DockerScope::default()));
        let r = &results[0];
        assert_eq!(r.status, Status::Fail);
        assert_eq!(
            r.evidence["conflicts"][0],
            "host port 18080/tcp is published by both beagle-app-1 and beagle-late-1"
        );
    }

    #[test]
    fn recorded_port_taken_outside_the_selection_names_the_holder() {
        let obs = fixtures::observations(&["late"]);
        let results = judge(&obs, &Roles::of(&obs, &DockerScope::default()));
        let r = &results[0];
        assert_eq!(r.status, Status::Fail);
        let text = r.evidence["conflicts"][0].as_str().unwrap();
        assert!(text.contains("held by beagle-app-1"), "{text}");
    }
}
