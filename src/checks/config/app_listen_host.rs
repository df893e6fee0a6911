//! `config.app-listen-host`: the app's server binds loopback inside its container.

use super::{Facts, app_evidence, no_apps};
use crate::apps::{ListenHost, SocketIoApp, is_loopback_host};
use crate::catalogue::{Rule, Severity};
use crate::config::Service;
use crate::report::CheckResult;

pub static RULE: Rule = Rule {
    id: "config.app-listen-host",
    severity: Severity::Error,
    title: "The app's server listens on all interfaces, not on 127.0.0.1",
    summary: "A Socket.IO app in a container binds 0.0.0.0 (or ::): `chainlit run --host \
              0.0.0.0`, `uvicorn --host 0.0.0.0`, `gunicorn -b 0.0.0.0:8000`, `hypercorn -b \
              0.0.0.0:8000`. Open WebUI's image and `open-webui serve` already do.",
    why: "127.0.0.1 inside a container is the container's own loopback: a published port, a \
          reverse proxy in another container, Kubernetes or Swarm service traffic and the Azure \
          Container Apps ingress all arrive on the container's network interface, where nothing \
          listens. The connection is refused (docker-proxy resets it; a proxy or ingress answers \
          502/503), the app's log shows it started fine. Chainlit (`chainlit run` without \
          --host or CHAINLIT_HOST: 127.0.0.1, chainlit 2.12.0 config.py:270), uvicorn \
          (--host defaults to 127.0.0.1, uvicorn 0.54.0 main.py:66), gunicorn (bind \
          127.0.0.1:8000 unless PORT is set, gunicorn 23.0.0 config.py:595-598) and hypercorn \
          (127.0.0.1:8000, hypercorn 0.18.0 config.py:58) all default to loopback.",
    fix: "Pass the address on the command line: `chainlit run app.py --host 0.0.0.0`, \
          `uvicorn app:app --host 0.0.0.0`, `gunicorn -b 0.0.0.0:8000 …`, `hypercorn -b \
          0.0.0.0:8000 …` (or set CHAINLIT_HOST / UVICORN_HOST=0.0.0.0). Flask-SocketIO: \
          `socketio.run(app, host=\"0.0.0.0\")` in the code.",
};

/// Who reaches the service from outside its container, as the files tell.
fn reached_by(facts: &Facts, service: &Service) -> String {
    let mut who = Vec::new();
    if let Some(app) = facts
        .deployment
        .aca
        .as_ref()
        .and_then(|a| a.app_of(&service.name))
    {
        match app.ingress.as_ref().and_then(|i| i.target_port.as_ref()) {
            Some(p) => who.push(format!(
                "the Container Apps ingress (targetPort {})",
                p.value
            )),
            None => who.push("Container Apps (other apps of its environment)".to_string()),
        }
    }
    // Container Apps' ingress is modelled as the service's port: named once, above.
    if let Some(p) = service.ports.first().filter(|_| who.is_empty()) {
        let more = if service.ports.len() > 1 { " …" } else { "" };
        who.push(format!(
            "its published port{} ({}{more})",
            if service.ports.len() > 1 { "s" } else { "" },
            p.target
        ));
    }
    let names = service.dns_names();
    let referrers: Vec<&str> = facts
        .deployment
        .services
        .iter()
        .filter(|s| s.name != service.name)
        .filter(|s| mentions(s, &names))
        .map(|s| s.name.as_str())
        .collect();
    if !referrers.is_empty() {
        who.push(format!(
            "service {} (which names it as a host)",
            referrers.join(", ")
        ));
    }
    if service.labels.keys().any(|k| k.starts_with("traefik."))
        || service
            .deploy_labels
            .keys()
            .any(|k| k.starts_with("traefik."))
    {
        who.push("Traefik (its labels)".to_string());
    }
    if facts.deployment.stack.is_some() {
        who.push("the swarm routing mesh".to_string());
    }
    if who.is_empty() {
        "anything outside its container (it runs in a container: other services, published ports, a proxy)".to_string()
    } else {
        who.join(", ")
    }
}

/// Whether `other` names one of `names` as a host (`http://app:8000` in its environment or
/// command: a proxy or client of the app).
fn mentions(other: &Service, names: &[&str]) -> bool {
    let texts = other
        .environment
        .values()
        .filter_map(|v| v.value.as_deref())
        .chain(
            other
                .command
                .iter()
                .chain(other.entrypoint.iter())
                .flat_map(|c| c.value.iter().map(String::as_str)),
        );
    texts.into_iter().any(|t| {
        names
            .iter()
            .any(|n| t.contains(&format!("//{n}:")) || t.contains(&format!("//{n}/")))
    })
}

fn judge(facts: &Facts, app: &SocketIoApp) -> CheckResult {
    let name = &app.service.name;
    let host = app.listen_host();
    let at = host
        .span
        .as_ref()
        .map(|s| s.location())
        .or_else(|| app.service.location());
    let r = match &host.value {
        ListenHost::Unknown(why) => RULE.skip(format!("{name}: {why}")),
        _ if app
            .service
            .network_mode
            .as_ref()
            .is_some_and(|m| m.value == "host" || m.value.contains(':')) =>
        {
            let mode = &app.service.network_mode.as_ref().expect("matched").value;
            RULE.skip(format!(
                "{name}: network_mode {mode}: the container shares another network namespace, whose loopback the host's (or that container's) processes reach"
            ))
        }
        ListenHost::Hosts { hosts, fix } => {
            let shown = hosts.join(", ");
            let how = if host.defaulted {
                format!("nothing sets it: {}", host.source)
            } else {
                format!("set by {}", host.source)
            };
            if hosts.iter().all(|h| is_loopback_host(h)) {
                RULE.fire(format!(
                    "{name}: {} listens on {shown} ({how}): inside its container that is the container's own loopback, unreachable for {}; connections are refused (a proxy or ingress answers 502)",
                    app.profile.name,
                    reached_by(facts, app.service)
                ))
                .hint(fix.to_string())
            } else {
                let note = if hosts
                    .iter()
                    .any(|h| matches!(h.as_str(), "0.0.0.0" | "::" | "[::]"))
                {
                    "all interfaces"
                } else {
                    "a non-loopback address"
                };
                RULE.pass(format!("{name}: listens on {shown} ({note}; {how})"))
            }
        }
    };
    let r = match &host.value {
        ListenHost::Hosts { hosts, .. } => r.evidence("listen_host", hosts.join(",")),
        ListenHost::Unknown(_) => r,
    };
    app_evidence(
        r.at(at)
            .subject(name.clone())
            .evidence("listen_host_source", host.source.clone())
            .evidence("listen_host_defaulted", host.defaulted),
        app,
    )
}

pub fn check(facts: &Facts) -> Vec<CheckResult> {
    if facts.apps.is_empty() {
        return no_apps(&RULE);
    }
    facts.apps.iter().map(|app| judge(facts, app)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::config::test_support::*;
    use crate::config::PortMapping;

    /// One service `app` (image `image`, command `cmd`, variables `vars`) read as `as_app`.
    fn run(image: &str, cmd: &str, vars: &[(&str, &str)], as_app: &str) -> Vec<CheckResult> {
        let mut s = with_env(service("app", image, 2), vars);
        if !cmd.is_empty() {
            s = with_command(s, &[cmd]);
        }
        s.ports.push(PortMapping {
            host_ip: None,
            published: Some("8000".into()),
            target: "8000".into(),
            protocol: "tcp".into(),
            span: None,
        });
        let d = deployment(vec![s]);
        check(&Facts::with_app(&d, None, Some(as_app)))
    }

    #[test]
    fn chainlit_without_host_fails_at_the_command_line() {
        let r = run("chat:1", "chainlit run app.py --port 8000", &[], "chainlit");
        assert_eq!(statuses(&r), ["fail"]);
        assert!(r[0].message.contains("127.0.0.1"), "{}", r[0].message);
        assert!(r[0].message.contains("published port"), "{}", r[0].message);
        assert!(r[0].message.contains("config.py:270"), "{}", r[0].message);
        assert_eq!(r[0].location.as_ref().and_then(|l| l.line), Some(30));
    }

    /// (app, command, variables)
    type Case<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)]);

    #[test]
    fn hosts_by_flag_variable_and_default() {
        let pass: &[Case] = &[
            ("chainlit", "chainlit run app.py --host 0.0.0.0", &[]),
            (
                "chainlit",
                "chainlit run app.py",
                &[("CHAINLIT_HOST", "0.0.0.0")],
            ),
            ("python-socketio", "uvicorn app:app --host=::", &[]),
            (
                "python-socketio",
                "gunicorn -k eventlet -b :8000 app:app",
                &[],
            ),
            (
                "python-socketio",
                "gunicorn -b 127.0.0.1:9000 -b 0.0.0.0:8000 app:app",
                &[],
            ),
            ("python-socketio", "gunicorn app:app", &[("PORT", "8000")]),
            (
                "python-socketio",
                "gunicorn app:app",
                &[("GUNICORN_CMD_ARGS", "-b 0.0.0.0:8000")],
            ),
            ("python-socketio", "hypercorn -b [::]:8000 app:app", &[]),
            (
                "python-socketio",
                "uvicorn app:app",
                &[("UVICORN_HOST", "0.0.0.0")],
            ),
            (
                "flask-socketio",
                "gunicorn -k eventlet --bind=10.0.0.5:5000 app:app",
                &[],
            ),
        ];
        for (app, cmd, vars) in pass {
            let r = run("python:3.12", cmd, vars, app);
            assert_eq!(statuses(&r), ["pass"], "{cmd}: {}", r[0].message);
        }
        let fail: &[Case] = &[
            (
                "python-socketio",
                "uvicorn app:socketio_app --port 8000",
                &[],
            ),
            (
                "python-socketio",
                "gunicorn -k eventlet -b 127.0.0.1:8000 app:app",
                &[],
            ),
            ("python-socketio", "hypercorn app:app", &[]),
            (
                "python-socketio",
                "uvicorn app:app",
                &[("UVICORN_HOST", "127.0.0.1")],
            ),
            (
                "chainlit",
                "sh -c pip install chainlit && chainlit run app.py --host localhost",
                &[],
            ),
            ("chainlit", "python -m chainlit run app.py", &[]),
        ];
        for (app, cmd, vars) in fail {
            let r = run("python:3.12", cmd, vars, app);
            assert_eq!(statuses(&r), ["fail"], "{cmd}: {}", r[0].message);
        }
    }

    #[test]
    fn app_code_config_files_and_shared_namespaces_are_skipped_saying_why() {
        let r = run("python:3.12", "python app.py", &[], "flask-socketio");
        assert_eq!(statuses(&r), ["skip"]);
        assert!(r[0].message.contains("socketio.run"), "{}", r[0].message);
        let r = run(
            "python:3.12",
            "gunicorn -c conf.py app:app",
            &[],
            "python-socketio",
        );
        assert_eq!(statuses(&r), ["skip"]);
        assert!(r[0].message.contains("config file"), "{}", r[0].message);
        let r = run("chat:1", "", &[], "chainlit");
        assert_eq!(statuses(&r), ["skip"]);
        assert!(r[0].message.contains("image's own CMD"), "{}", r[0].message);
        let r = run(
            "python:3.12",
            "sh -c chainlit run app.py --host $HOST",
            &[],
            "chainlit",
        );
        assert_eq!(statuses(&r), ["skip"]);
        assert!(
            r[0].message.contains("the shell sets it"),
            "{}",
            r[0].message
        );
        let r = run(
            "python:3.12",
            "gunicorn -b unix:/run/app.sock app:app",
            &[],
            "python-socketio",
        );
        assert_eq!(statuses(&r), ["skip"]);
    }

    #[test]
    fn open_webui_image_and_serve_default_to_all_interfaces() {
        let image = "ghcr.io/open-webui/open-webui:main";
        let r = run(image, "", &[], "open-webui");
        assert_eq!(statuses(&r), ["pass"], "{}", r[0].message);
        assert!(r[0].message.contains("start.sh"), "{}", r[0].message);
        let r = run(image, "", &[("HOST", "127.0.0.1")], "open-webui");
        assert_eq!(statuses(&r), ["fail"], "{}", r[0].message);
        assert_eq!(r[0].location.as_ref().and_then(|l| l.line), Some(10));
        let r = run(
            "python:3.11",
            "open-webui serve --port 8080",
            &[],
            "open-webui",
        );
        assert_eq!(statuses(&r), ["pass"], "{}", r[0].message);
        let r = run(
            "python:3.11",
            "open-webui serve --host 127.0.0.1",
            &[],
            "open-webui",
        );
        assert_eq!(statuses(&r), ["fail"], "{}", r[0].message);
    }

    #[test]
    fn loopback_addresses() {
        for h in ["127.0.0.1", "127.0.0.2", "localhost", "::1", "[::1]"] {
            assert!(is_loopback_host(h), "{h}");
        }
        for h in ["0.0.0.0", "::", "10.0.0.5", "app", ""] {
            assert!(!is_loopback_host(h), "{h}");
        }
    }
}
