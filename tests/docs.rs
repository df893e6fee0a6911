//! docs/checks.md is generated from the catalogue, so the docs cannot drift from the rules.

#[test]
fn checks_md_matches_the_catalogue() {
    let generated = wsdoctor::commands::explain::catalogue_markdown();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/checks.md");
    if std::env::var_os("WSDOCTOR_UPDATE_DOCS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        on_disk == generated,
        "docs/checks.md is out of date: run `WSDOCTOR_UPDATE_DOCS=1 cargo test --test docs`"
    );
}

#[test]
fn every_rule_id_is_unique_and_well_formed() {
    let rules = wsdoctor::catalogue::all();
    let mut ids: Vec<&str> = rules.iter().map(|r| r.id).collect();
    for id in &ids {
        let (family, name) = id.split_once('.').expect("family.name");
        assert!(
            ["config", "kube", "aca", "redis", "ws", "docker", "proxy"].contains(&family),
            "{id}"
        );
        assert!(
            !name.is_empty() && name.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
            "{id}"
        );
    }
    let before = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(before, ids.len(), "duplicate rule ids");
    for r in rules {
        assert!(
            !r.title.is_empty() && !r.summary.is_empty() && !r.why.is_empty() && !r.fix.is_empty(),
            "{}",
            r.id
        );
    }
}

#[test]
fn design_md_config_ids_are_all_in_the_catalogue() {
    // The starting catalogue of DESIGN.md is a public contract.
    for id in [
        "env-syntax",
        "env-duplicate-key",
        "compose-syntax",
        "interpolation-unset",
        "env-file-missing",
        "redis-url-missing",
        "redis-url-syntax",
        "redis-url-unencoded",
        "redis-url-host",
        "redis-url-loopback",
        "redis-url-port",
        "redis-url-password",
        "redis-url-db",
        "redis-url-override",
        "websocket-redis-url",
        "websocket-manager",
        "polling-multi-worker",
        "cors-origin",
        "sentinel-timeout",
        "redis-timeout",
        "redis-maxclients",
        "network-shared",
        "depends-on-redis",
        "redis-exposed-without-password",
        "aioredis-conflict",
    ] {
        let full = format!("config.{id}");
        assert!(wsdoctor::catalogue::find(&full).is_some(), "{full} missing");
    }
}
