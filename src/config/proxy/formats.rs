//! HAProxy, Caddy and Traefik for discovery ([`super::discover`]): where each image reads
//! its configuration inside the container, where Traefik's file provider reads its dynamic
//! files, and reading a file of one of these kinds into the model.

use super::{ProxyConfig, ProxyKind, ProxySource, caddy, haproxy, traefik};
use crate::config::yaml;

/// Where each proxy image reads its configuration inside the container.
///
/// - HAProxy's official image: `/usr/local/etc/haproxy/haproxy.cfg`
///   (<https://hub.docker.com/_/haproxy>, "Create a Dockerfile"); Debian/Ubuntu packages and
///   haproxytech images also read `/etc/haproxy/haproxy.cfg`.
/// - Caddy's official image: `/etc/caddy/Caddyfile` (<https://hub.docker.com/_/caddy>).
/// - Traefik: the static configuration at `/etc/traefik/traefik.{yml,yaml,toml}`
///   (<https://doc.traefik.io/traefik/getting-started/configuration-overview/>, "Configuration
///   File"); the dynamic files are wherever `providers.file` points (see
///   [`traefik_dynamic_paths`]).
pub const IMAGE_CONFIG_PATHS: &[(ProxyKind, &str, &[&str])] = &[
    (
        ProxyKind::Haproxy,
        "haproxy",
        &[
            "/usr/local/etc/haproxy/haproxy.cfg",
            "/etc/haproxy/haproxy.cfg",
        ],
    ),
    (ProxyKind::Caddy, "caddy", &["/etc/caddy/Caddyfile"]),
    (
        ProxyKind::Traefik,
        "traefik",
        &[
            "/etc/traefik/traefik.yml",
            "/etc/traefik/traefik.yaml",
            "/etc/traefik/traefik.toml",
        ],
    ),
];

/// Whether a container path is one this kind of proxy reads (a mounted directory counts
/// when it holds the config path: `./haproxy:/usr/local/etc/haproxy`).
pub fn is_config_mount(kind: ProxyKind, container_path: &str) -> bool {
    let target = container_path.trim_end_matches('/');
    IMAGE_CONFIG_PATHS
        .iter()
        .filter(|(k, _, _)| *k == kind)
        .flat_map(|(_, _, paths)| paths.iter())
        .any(|p| *p == target || p.starts_with(&format!("{target}/")))
}

/// Reads a HAProxy, Caddy or Traefik file into the model. None for nginx (another reader).
pub fn read(kind: ProxyKind, file: &str, text: &str, source: ProxySource) -> Option<ProxyConfig> {
    match kind {
        ProxyKind::Haproxy => Some(haproxy::to_model(file, text, source)),
        ProxyKind::Caddy => Some(caddy::to_model(file, text, source)),
        ProxyKind::Traefik => {
            let cfg = traefik::parse_file(file, text);
            Some(traefik::to_model(&cfg, file, source, &|_| 1))
        }
        ProxyKind::Nginx => None,
    }
}

/// Where Traefik's file provider reads dynamic configuration, inside the container: from
/// the static configuration (`providers.file.filename` / `.directory`) and from the
/// container's command (`--providers.file.filename=…`, `--providers.file.directory=…`).
/// (<https://doc.traefik.io/traefik/providers/file/>)
pub fn traefik_dynamic_paths(static_config: Option<&str>, command: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for arg in command {
        let lower = arg.to_ascii_lowercase();
        for key in ["--providers.file.filename=", "--providers.file.directory="] {
            if lower.starts_with(key) {
                out.push(arg[key.len()..].to_string());
            }
        }
    }
    if let Some(text) = static_config
        && let Ok(docs) = yaml::parse_documents(text)
        && let Some(root) = docs.first()
    {
        let file = ["providers", "file"]
            .iter()
            .try_fold(root, |n, k| lookup(n, k));
        if let Some(file) = file {
            for key in ["filename", "directory"] {
                if let Some(v) = lookup(file, key).and_then(yaml::Node::scalar_string) {
                    out.push(v);
                }
            }
        }
    }
    out
}

fn lookup<'a>(node: &'a yaml::Node, key: &str) -> Option<&'a yaml::Node> {
    node.as_map()?
        .iter()
        .find(|(k, _)| {
            k.scalar_string()
                .is_some_and(|s| s.eq_ignore_ascii_case(key))
        })
        .map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_mounts() {
        assert!(is_config_mount(
            ProxyKind::Haproxy,
            "/usr/local/etc/haproxy/haproxy.cfg"
        ));
        assert!(is_config_mount(
            ProxyKind::Haproxy,
            "/usr/local/etc/haproxy/"
        ));
        assert!(is_config_mount(ProxyKind::Caddy, "/etc/caddy/Caddyfile"));
        assert!(!is_config_mount(ProxyKind::Caddy, "/data"));
        assert!(is_config_mount(
            ProxyKind::Traefik,
            "/etc/traefik/traefik.yml"
        ));
    }

    #[test]
    fn traefik_file_provider_paths() {
        let st = "providers:\n  file:\n    directory: /etc/traefik/dynamic\n  docker: {}\n";
        let cmd = vec!["--providers.file.filename=/config/dyn.yml".to_string()];
        assert_eq!(
            traefik_dynamic_paths(Some(st), &cmd),
            vec![
                "/config/dyn.yml".to_string(),
                "/etc/traefik/dynamic".to_string()
            ]
        );
        assert!(traefik_dynamic_paths(Some("providers:\n  docker: {}\n"), &[]).is_empty());
    }
}
