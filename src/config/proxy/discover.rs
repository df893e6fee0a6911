//! Finding the proxy's configuration: files a compose service with a proxy image mounts into
//! the proxy's configuration path, and files given with `--proxy-config`.
//!
//! Each format's reader is called from [`read_file`] (a file of known kind) and
//! [`from_service`] (what a proxy container would load): add a format by adding its arm.

use std::path::{Path, PathBuf};

use super::nginx::{self, EntryContext, IncludePaths};
use super::{ProxyConfig, ProxyKind, ProxySource};
use crate::config::{Deployment, Service};
use crate::error::CliError;

/// The proxy an image runs, from its repository name (`nginx:1.27-alpine`,
/// `nginxinc/nginx-unprivileged`, `caddy:2`, `haproxy:3.0`, `traefik:v3`).
pub fn kind_of_image(image: &str) -> Option<ProxyKind> {
    let repo = image.split('@').next().unwrap_or(image);
    let name = repo.rsplit('/').next().unwrap_or(repo);
    let name = name.split(':').next().unwrap_or(name).to_ascii_lowercase();
    if name.starts_with("nginx") || name == "openresty" {
        Some(ProxyKind::Nginx)
    } else if name.starts_with("caddy") {
        Some(ProxyKind::Caddy)
    } else if name.starts_with("haproxy") {
        Some(ProxyKind::Haproxy)
    } else if name.starts_with("traefik") {
        Some(ProxyKind::Traefik)
    } else {
        None
    }
}

/// The kind of a file given with `--proxy-config`, from its name and its text.
pub fn kind_of_file(path: &Path, text: &str) -> ProxyKind {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if name.contains("caddyfile") {
        return ProxyKind::Caddy;
    }
    if name.ends_with(".yml") || name.ends_with(".yaml") || name.ends_with(".toml") {
        return ProxyKind::Traefik;
    }
    let haproxy_sections = ["frontend", "backend", "defaults", "listen", "global"];
    let first_words: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with([' ', '\t']))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    if name.ends_with(".cfg")
        || (first_words.iter().any(|w| haproxy_sections.contains(w))
            && !text.contains('{')
            && !text.contains(';'))
    {
        return ProxyKind::Haproxy;
    }
    ProxyKind::Nginx
}

/// Apache httpd's configuration (`<VirtualHost`, `LoadModule`, `ProxyPass`), which no
/// reader here reads.
fn is_apache(text: &str) -> bool {
    text.lines().map(str::trim_start).any(|l| {
        l.starts_with("<VirtualHost") || l.starts_with("LoadModule ") || l.starts_with("ProxyPass ")
    })
}

/// Reads every `--proxy-config` file. A path that does not exist is a usage error (exit 2),
/// as for `-f`.
pub fn read_flags(
    files: &[PathBuf],
    display: &dyn Fn(&Path) -> String,
) -> Result<Vec<ProxyConfig>, CliError> {
    let mut out = Vec::new();
    for path in files {
        if !path.is_file() {
            return Err(CliError::input(
                path.display().to_string(),
                "no such file (--proxy-config takes the proxy's configuration file)",
            ));
        }
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if is_apache(&text) {
            return Err(CliError::input(
                path.display().to_string(),
                "an Apache httpd configuration: wsdoctor reads nginx, Caddy, HAProxy and \
                 Traefik configurations",
            ));
        }
        let kind = kind_of_file(path, &text);
        let shown = display(path);
        if let Some(c) = read_file(kind, path, &shown, ProxySource::Flag, display) {
            out.push(c);
        }
    }
    Ok(out)
}

/// Reads one configuration file of a known kind; None for a kind this build has no reader
/// for.
pub fn read_file(
    kind: ProxyKind,
    path: &Path,
    shown: &str,
    source: ProxySource,
    display: &dyn Fn(&Path) -> String,
) -> Option<ProxyConfig> {
    match kind {
        ProxyKind::Nginx => {
            let text = std::fs::read_to_string(path).unwrap_or_default();
            Some(nginx::read(
                path,
                shown,
                nginx::entry_context(&text),
                &IncludePaths::default(),
                source,
                display,
            ))
        }
        ProxyKind::Caddy | ProxyKind::Haproxy | ProxyKind::Traefik => {
            let text = std::fs::read_to_string(path).unwrap_or_default();
            super::formats::read(kind, shown, &text, source)
        }
    }
}

/// nginx's configuration directory in the official image (and Debian's): `nginx -V` shows
/// `--conf-path=/etc/nginx/nginx.conf`; the image's nginx.conf includes
/// `/etc/nginx/conf.d/*.conf` inside `http {}` (docker-library/nginx, `nginx.conf` of the
/// mainline and stable images).
const NGINX_CONF_DIR: &str = "/etc/nginx";

/// What a proxy service's container would load from the files it mounts.
pub fn from_service(service: &Service, display: &dyn Fn(&Path) -> String) -> Vec<ProxyConfig> {
    let Some(kind) = service.image.as_ref().and_then(|i| kind_of_image(&i.value)) else {
        return Vec::new();
    };
    match kind {
        ProxyKind::Nginx => nginx_from_service(service, display),
        ProxyKind::Caddy | ProxyKind::Haproxy => mounted_config(kind, service, display),
        ProxyKind::Traefik => traefik_from_service(service, display),
    }
}

/// The file a Caddy or HAProxy container loads, when the service mounts it (the file
/// itself, or the directory that holds it).
fn mounted_config(
    kind: ProxyKind,
    service: &Service,
    display: &dyn Fn(&Path) -> String,
) -> Vec<ProxyConfig> {
    use super::formats::{IMAGE_CONFIG_PATHS, is_config_mount};
    for m in &service.volumes {
        if !is_config_mount(kind, &m.target) {
            continue;
        }
        let target = m.target.trim_end_matches('/');
        let file = if m.source.is_file() {
            Some(m.source.clone())
        } else {
            IMAGE_CONFIG_PATHS
                .iter()
                .filter(|(k, _, _)| *k == kind)
                .flat_map(|(_, _, paths)| paths.iter())
                .filter_map(|p| p.strip_prefix(&format!("{target}/")))
                .map(|rel| m.source.join(rel))
                .find(|p| p.is_file())
        };
        let Some(file) = file else { continue };
        let source = ProxySource::ComposeMount {
            service: service.name.clone(),
            container_path: m.target.clone(),
            span: m.span.clone(),
        };
        return read_file(kind, &file, &display(&file), source, display)
            .into_iter()
            .collect();
    }
    Vec::new()
}

/// The dynamic files a Traefik container's file provider reads (from its mounted static
/// configuration and its command line), mapped back to the host through its mounts.
fn traefik_from_service(service: &Service, display: &dyn Fn(&Path) -> String) -> Vec<ProxyConfig> {
    use super::formats::{is_config_mount, traefik_dynamic_paths};
    let host_path = |container: &str| -> Option<PathBuf> {
        service
            .volumes
            .iter()
            .filter_map(|m| {
                let t = m.target.trim_end_matches('/');
                if container == t {
                    Some(m.source.clone())
                } else {
                    container
                        .strip_prefix(&format!("{t}/"))
                        .map(|rel| m.source.join(rel))
                }
            })
            .next()
    };
    let static_text = service
        .volumes
        .iter()
        .filter(|m| is_config_mount(ProxyKind::Traefik, &m.target) && m.source.is_file())
        .find_map(|m| std::fs::read_to_string(&m.source).ok());
    let command: Vec<String> = service
        .command
        .as_ref()
        .map(|c| c.value.clone())
        .unwrap_or_default();
    let mut out = Vec::new();
    for container in traefik_dynamic_paths(static_text.as_deref(), &command) {
        let Some(host) = host_path(&container) else {
            continue;
        };
        let files: Vec<PathBuf> = if host.is_dir() {
            let mut v: Vec<PathBuf> = std::fs::read_dir(&host)
                .into_iter()
                .flatten()
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| {
                    p.extension()
                        .is_some_and(|e| e == "yml" || e == "yaml" || e == "toml")
                })
                .collect();
            v.sort();
            v
        } else {
            vec![host]
        };
        for f in files.into_iter().filter(|f| f.is_file()) {
            let source = ProxySource::ComposeMount {
                service: service.name.clone(),
                container_path: container.clone(),
                span: None,
            };
            out.extend(read_file(
                ProxyKind::Traefik,
                &f,
                &display(&f),
                source,
                display,
            ));
        }
    }
    out
}

fn nginx_from_service(service: &Service, display: &dyn Fn(&Path) -> String) -> Vec<ProxyConfig> {
    let paths = IncludePaths {
        conf_dir: Some(NGINX_CONF_DIR.to_string()),
        mounts: service
            .volumes
            .iter()
            .map(|m| (m.target.clone(), m.source.clone()))
            .collect(),
    };
    let source_of = |m: &crate::config::BindMount| ProxySource::ComposeMount {
        service: service.name.clone(),
        container_path: m.target.clone(),
        span: m.span.clone(),
    };
    let main_conf = format!("{NGINX_CONF_DIR}/nginx.conf");
    // A mounted nginx.conf (or the whole /etc/nginx) replaces the image's.
    for m in &service.volumes {
        let target = m.target.trim_end_matches('/');
        let entry = if target == main_conf && m.source.is_file() {
            m.source.clone()
        } else if target == NGINX_CONF_DIR && m.source.join("nginx.conf").is_file() {
            m.source.join("nginx.conf")
        } else {
            continue;
        };
        return vec![nginx::read(
            &entry,
            &display(&entry),
            EntryContext::Main,
            &paths,
            source_of(m),
            display,
        )];
    }
    // Otherwise the image's nginx.conf includes conf.d/*.conf in `http {}`: read what is
    // mounted there, as one configuration (upstreams of one file serve the others).
    let confd = format!("{NGINX_CONF_DIR}/conf.d");
    let Some(first) = service.volumes.iter().find(|m| {
        let t = m.target.trim_end_matches('/');
        (t == confd && m.source.is_dir())
            || (t.starts_with(&format!("{confd}/")) && t.ends_with(".conf") && m.source.is_file())
    }) else {
        return Vec::new();
    };
    vec![nginx::read_included(
        &format!("{confd}/*.conf"),
        &display(&first.source),
        &paths,
        source_of(first),
        display,
    )]
}

/// Every proxy configuration of a deployment: the `--proxy-config` files, then what each
/// proxy service mounts (a file given with the flag is not read twice).
pub fn discover(
    deployment: &Deployment,
    flags: &[PathBuf],
    display: &dyn Fn(&Path) -> String,
) -> Result<Vec<ProxyConfig>, CliError> {
    let mut out = read_flags(flags, display)?;
    for service in &deployment.services {
        for c in from_service(service, display) {
            if !out.iter().any(|o| o.file == c.file) {
                out.push(c);
            }
        }
    }
    // Traefik's Docker provider: the `traefik.http.*` labels of the project's services.
    out.extend(super::traefik::from_deployment(deployment));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images() {
        assert_eq!(kind_of_image("nginx:1.27-alpine"), Some(ProxyKind::Nginx));
        assert_eq!(
            kind_of_image("docker.io/nginxinc/nginx-unprivileged:stable"),
            Some(ProxyKind::Nginx)
        );
        assert_eq!(kind_of_image("caddy:2"), Some(ProxyKind::Caddy));
        assert_eq!(kind_of_image("haproxy:3.0"), Some(ProxyKind::Haproxy));
        assert_eq!(kind_of_image("traefik:v3.1"), Some(ProxyKind::Traefik));
        assert_eq!(kind_of_image("redis:7"), None);
        assert_eq!(kind_of_image("ghcr.io/open-webui/open-webui:main"), None);
    }

    #[test]
    fn files() {
        let k = |name: &str, text: &str| kind_of_file(Path::new(name), text);
        assert_eq!(k("Caddyfile", ""), ProxyKind::Caddy);
        assert_eq!(k("haproxy.cfg", ""), ProxyKind::Haproxy);
        assert_eq!(k("dynamic.yml", ""), ProxyKind::Traefik);
        assert_eq!(k("site.conf", "server { listen 80; }"), ProxyKind::Nginx);
        assert_eq!(
            k(
                "lb",
                "frontend www\n  bind :80\nbackend b\n  server a a:1\n"
            ),
            ProxyKind::Haproxy
        );
    }
}
