//! Builders for hand-made deployments in unit tests (checks, app profiles).

use crate::config::*;

pub fn env(value: &str, line: u32) -> EnvVar {
    EnvVar {
        value: Some(value.to_string()),
        raw: Some(value.to_string()),
        span: Some(Span::new("compose.yaml", line, 20)),
        source: EnvSource::Environment,
        shadowed: vec![],
    }
}

pub fn service(name: &str, image: &str, line: u32) -> Service {
    Service {
        name: name.to_string(),
        span: Some(Span::new("compose.yaml", line, 3)),
        image: Some(Located::new(
            image.to_string(),
            Some(Span::new("compose.yaml", line + 1, 12)),
        )),
        networks: vec![ServiceNetwork {
            name: "default".into(),
            aliases: vec![],
            span: None,
        }],
        ..Service::default()
    }
}

pub fn with_env(mut s: Service, vars: &[(&str, &str)]) -> Service {
    for (i, (k, v)) in vars.iter().enumerate() {
        s.environment.insert(k.to_string(), env(v, 10 + i as u32));
    }
    s
}

pub fn with_command(mut s: Service, args: &[&str]) -> Service {
    s.command = Some(Located::new(
        args.iter().map(|a| a.to_string()).collect(),
        Some(Span::new("compose.yaml", 30, 14)),
    ));
    s
}

pub fn deployment(services: Vec<Service>) -> Deployment {
    Deployment {
        project_name: "test".into(),
        compose_files: vec!["compose.yaml".into()],
        services,
        ..Deployment::default()
    }
}
