//! The compose loader on small real projects written to temporary directories: each compose
//! feature wsdoctor relies on, with the exact values and file:line:column the model keeps,
//! and each bad input as a clean exit-2 error.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use wsdoctor::commands::CliError;
use wsdoctor::config::compose::{LoadOptions, load};
use wsdoctor::config::{Deployment, EnvSource, InterpolationProblem, Service, Span};

struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    fn new(files: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = Project { dir };
        for (name, text) in files {
            p.write(name, text.as_bytes());
        }
        p
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn write(&self, name: &str, bytes: &[u8]) {
        let path = self.dir.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(path, bytes).expect("write");
    }

    fn opts(&self) -> LoadOptions {
        LoadOptions {
            project_dir: self.dir.path().to_path_buf(),
            files: Vec::new(),
            env_file: None,
            process_env: BTreeMap::new(),
        }
    }

    fn load(&self) -> Deployment {
        load(&self.opts()).unwrap_or_else(|e| panic!("load failed: {e}"))
    }

    fn load_with(&self, f: impl FnOnce(&mut LoadOptions)) -> Result<Deployment, CliError> {
        let mut o = self.opts();
        f(&mut o);
        load(&o)
    }

    /// The error that stops the load (exit 2), or else the first file that did not parse
    /// (a `config.compose-syntax` / `config.env-syntax` finding since issue 12), as the
    /// same file/line/column/message.
    fn err(&self) -> CliError {
        match load(&self.opts()) {
            Ok(d) => parse_failure(&d)
                .unwrap_or_else(|| panic!("expected an error, loaded {:?}", d.compose_files)),
            Err(e) => e,
        }
    }
}

fn span(file: &str, line: u32, column: u32) -> Option<Span> {
    Some(Span::new(file, line, column))
}

fn svc<'a>(d: &'a Deployment, name: &str) -> &'a Service {
    d.service(name)
        .unwrap_or_else(|| panic!("no service {name}; have {:?}", names(d)))
}

fn names(d: &Deployment) -> Vec<&str> {
    d.services.iter().map(|s| s.name.as_str()).collect()
}

fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The first file of `d` that did not parse: a compose file compose refuses, or an env file
/// whose content cannot be read (not UTF-8, too large).
fn parse_failure(d: &Deployment) -> Option<CliError> {
    let unparsed = wsdoctor::config::compose::unparsed_files(d);
    let compose = d.structure.iter().find_map(|p| {
        p.span
            .as_ref()
            .filter(|s| unparsed.contains(&s.file.as_str()))
            .map(|s| (s.clone(), p.message.clone()))
    });
    let located = compose.or_else(|| {
        d.all_env_files()
            .iter()
            .flat_map(|f| f.errors.iter())
            .find(|e| e.message.contains("UTF-8") || e.message.contains("MiB"))
            .map(|e| (e.span.clone(), e.message.clone()))
    })?;
    let (span, message) = located;
    Some(CliError::input_at(
        span.file,
        span.line,
        span.column,
        message,
    ))
}

fn input_error(e: &CliError) -> (&str, Option<u32>, Option<u32>, &str) {
    match e {
        CliError::Input {
            file,
            line,
            column,
            message,
        } => (file, *line, *column, message),
        CliError::Usage(m) => panic!("expected an input error, got usage error {m}"),
    }
}

// ---------------------------------------------------------------- discovery and project

#[test]
fn discovery_prefers_compose_yaml_and_adds_the_override() {
    let p = Project::new(&[
        ("docker-compose.yml", "services:\n  old:\n    image: a\n"),
        ("compose.yaml", "services:\n  web:\n    image: nginx\n"),
        (
            "compose.override.yml",
            "services:\n  web:\n    image: nginx:1.27\n",
        ),
    ]);
    let d = p.load();
    assert_eq!(d.compose_files, ["compose.yaml", "compose.override.yml"]);
    assert_eq!(names(&d), ["web"]);
    let image = svc(&d, "web").image.as_ref().unwrap();
    assert_eq!(image.value, "nginx:1.27");
    assert_eq!(image.span, span("compose.override.yml", 3, 12));
    assert_eq!(svc(&d, "web").span, span("compose.yaml", 2, 3));
}

#[test]
fn discovery_order_among_docker_compose_names() {
    let p = Project::new(&[
        ("docker-compose.yaml", "services:\n  b:\n    image: b\n"),
        ("docker-compose.yml", "services:\n  a:\n    image: a\n"),
    ]);
    let d = p.load();
    assert_eq!(d.compose_files, ["docker-compose.yml"]);
    assert_eq!(names(&d), ["a"]);
}

#[test]
fn no_compose_file_is_an_input_error_listing_the_names() {
    let p = Project::new(&[("README", "nothing here")]);
    let e = p.err();
    let (_, line, _, message) = input_error(&e);
    assert_eq!(line, None);
    for name in [
        "compose.yaml",
        "compose.yml",
        "docker-compose.yml",
        "docker-compose.yaml",
    ] {
        assert!(message.contains(name), "{message}");
    }
}

#[test]
fn dash_f_files_merge_in_order() {
    let p = Project::new(&[
        (
            "base.yml",
            "services:\n  app:\n    image: app:1\n    command: [\"serve\", \"--workers\", \"1\"]\n    environment:\n      A: base\n      B: base\n    ports:\n      - \"8080:80\"\n",
        ),
        (
            "prod.yml",
            "services:\n  app:\n    image: app:2\n    command: serve --workers 4\n    environment:\n      - A=prod\n    ports:\n      - \"8080:80\"\n      - \"9090:90\"\n",
        ),
    ]);
    let d = p
        .load_with(|o| o.files = vec![p.path().join("base.yml"), p.path().join("prod.yml")])
        .unwrap();
    assert_eq!(d.compose_files, ["base.yml", "prod.yml"]);
    let app = svc(&d, "app");
    assert_eq!(app.image.as_ref().unwrap().value, "app:2");
    let cmd = app.command.as_ref().unwrap();
    assert_eq!(cmd.value, ["serve", "--workers", "4"]);
    assert_eq!(cmd.span, span("prod.yml", 4, 14));
    let a = &app.environment["A"];
    assert_eq!(a.value.as_deref(), Some("prod"));
    assert_eq!(
        a.span,
        span("prod.yml", 6, 11),
        "points at the value after `A=`"
    );
    assert_eq!(a.shadowed.len(), 1);
    assert_eq!(a.shadowed[0].value.as_deref(), Some("base"));
    assert_eq!(a.shadowed[0].span, span("base.yml", 6, 10));
    assert_eq!(app.env("B"), Some("base"));
    let ports: Vec<(Option<&str>, &str)> = app
        .ports
        .iter()
        .map(|p| (p.published.as_deref(), p.target.as_str()))
        .collect();
    assert_eq!(ports, [(Some("8080"), "80"), (Some("9090"), "90")]);
    // Reversed order: the other file wins.
    let d = p
        .load_with(|o| o.files = vec![p.path().join("prod.yml"), p.path().join("base.yml")])
        .unwrap();
    assert_eq!(svc(&d, "app").image.as_ref().unwrap().value, "app:1");
    assert_eq!(svc(&d, "app").env("A"), Some("base"));
}

#[test]
fn dash_f_without_project_dir_uses_the_first_files_directory() {
    let p = Project::new(&[
        ("sub/compose.yml", "services:\n  app:\n    image: ${TAG}\n"),
        ("sub/.env", "TAG=from-sub-env\n"),
    ]);
    let d = p
        .load_with(|o| {
            o.project_dir = PathBuf::new(); // no --project-dir
            o.files = vec![p.path().join("sub/compose.yml")];
        })
        .unwrap();
    assert_eq!(d.project_dir, p.path().join("sub"));
    assert_eq!(d.compose_files, ["compose.yml"]);
    assert_eq!(d.project_name, "sub");
    assert_eq!(svc(&d, "app").image.as_ref().unwrap().value, "from-sub-env");
}

#[test]
fn compose_file_variable_with_custom_separator() {
    let p = Project::new(&[
        ("a.yml", "services:\n  one:\n    image: x\n"),
        ("b.yml", "services:\n  two:\n    image: y\n"),
        ("compose.yaml", "services:\n  ignored:\n    image: z\n"),
    ]);
    let d = p
        .load_with(|o| {
            // Absolute: relative entries are resolved against the working directory (see
            // `compose_file_relative_entries_follow_the_working_directory`).
            let list = format!(
                "{};{}",
                p.path().join("a.yml").display(),
                p.path().join("b.yml").display()
            );
            o.process_env = env(&[
                ("COMPOSE_FILE", list.as_str()),
                ("COMPOSE_PATH_SEPARATOR", ";"),
            ])
        })
        .unwrap();
    assert_eq!(d.compose_files, ["a.yml", "b.yml"]);
    assert_eq!(names(&d), ["one", "two"]);
}

#[test]
fn compose_file_variable_from_the_dotenv() {
    let p = Project::new(&[
        ("a.yml", "services:\n  one:\n    image: x\n"),
        ("compose.yaml", "services:\n  ignored:\n    image: z\n"),
    ]);
    p.write(
        ".env",
        format!("COMPOSE_FILE={}\n", p.path().join("a.yml").display()).as_bytes(),
    );
    assert_eq!(p.load().compose_files, ["a.yml"]);
}

#[test]
fn project_name_precedence_and_normalization() {
    let p = Project::new(&[("compose.yaml", "name: My-Stack\nservices: {}\n")]);
    assert_eq!(p.load().project_name, "my-stack");
    let d = p
        .load_with(|o| o.process_env = env(&[("COMPOSE_PROJECT_NAME", "Other.Name")]))
        .unwrap();
    assert_eq!(d.project_name, "othername");
    let p = Project::new(&[("My App/compose.yaml", "services: {}\n")]);
    let d = p
        .load_with(|o| o.project_dir = p.path().join("My App"))
        .unwrap();
    assert_eq!(d.project_name, "myapp");
}

// ---------------------------------------------------------------- YAML features

#[test]
fn merge_keys_give_the_use_site_and_local_keys_override() {
    let p = Project::new(&[(
        "compose.yaml",
        "x-common: &common\n  REDIS_URL: redis://redis:6379/0\n  LOG: info\n\nservices:\n  app:\n    image: app\n    environment:\n      <<: *common\n      LOG: debug\n",
    )]);
    let d = p.load();
    let app = svc(&d, "app");
    let url = &app.environment["REDIS_URL"];
    assert_eq!(url.value.as_deref(), Some("redis://redis:6379/0"));
    assert_eq!(url.span.as_ref().unwrap().line, 9, "the `<<: *common` line");
    assert_eq!(app.env("LOG"), Some("debug"));
    assert_eq!(app.environment["LOG"].span, span("compose.yaml", 10, 12));
}

#[test]
fn merge_key_lists_and_service_level_anchors() {
    let p = Project::new(&[(
        "compose.yaml",
        "x-a: &a\n  image: base\n  restart: always\nx-b: &b\n  image: other\n  container_name: b1\nservices:\n  one:\n    <<: [*a, *b]\n    hostname: h1\n  two:\n    <<: *b\n    image: mine\n",
    )]);
    let d = p.load();
    let one = svc(&d, "one");
    // YAML merge: earlier sources win over later ones.
    assert_eq!(one.image.as_ref().unwrap().value, "base");
    assert_eq!(one.container_name.as_ref().unwrap().value, "b1");
    assert_eq!(one.hostname.as_ref().unwrap().value, "h1");
    let two = svc(&d, "two");
    assert_eq!(two.image.as_ref().unwrap().value, "mine");
    assert_eq!(
        two.image.as_ref().unwrap().span,
        span("compose.yaml", 13, 12)
    );
}

#[test]
fn aliases_of_whole_values() {
    let p = Project::new(&[(
        "compose.yaml",
        "x-env: &env\n  - A=1\n  - B=2\nservices:\n  a:\n    image: x\n    environment: *env\n  b:\n    image: x\n    environment: *env\n",
    )]);
    let d = p.load();
    for name in ["a", "b"] {
        assert_eq!(svc(&d, name).env("A"), Some("1"));
        assert_eq!(svc(&d, name).env("B"), Some("2"));
    }
}

#[test]
fn multiple_documents_merge_in_order() {
    let p = Project::new(&[(
        "compose.yaml",
        "services:\n  a:\n    image: one\n---\nservices:\n  a:\n    image: two\n  b:\n    image: three\n",
    )]);
    let d = p.load();
    assert_eq!(svc(&d, "a").image.as_ref().unwrap().value, "two");
    assert_eq!(names(&d), ["a", "b"]);
}

#[test]
fn reset_and_override_tags_across_files() {
    let p = Project::new(&[
        (
            "compose.yaml",
            "services:\n  app:\n    image: x\n    ports: [\"80:80\"]\n    networks: [front, back]\n    environment:\n      A: 1\n",
        ),
        (
            "compose.override.yaml",
            "services:\n  app:\n    ports: !reset []\n    networks: !override [back]\n    environment: !override\n      B: 2\n",
        ),
    ]);
    let d = p.load();
    let app = svc(&d, "app");
    assert!(app.ports.is_empty());
    let nets: Vec<&str> = app.networks.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(nets, ["back"]);
    assert_eq!(app.env("A"), None);
    assert_eq!(app.env("B"), Some("2"));
}

// ---------------------------------------------------------------- environment

#[test]
fn environment_forms_bare_keys_and_scalars() {
    let p = Project::new(&[(
        "compose.yaml",
        "services:\n  app:\n    image: x\n    environment:\n      PORT: 3000\n      DEBUG: true\n      RATIO: 1.5\n      FROM_PROCESS:\n      MISSING:\n  worker:\n    image: x\n    environment:\n      - QUEUE=jobs\n      - \"QUOTED=a b\"\n      - FROM_PROCESS\n      - MISSING\n      - EMPTY=\n",
    )]);
    let d = p
        .load_with(|o| o.process_env = env(&[("FROM_PROCESS", "yes")]))
        .unwrap();
    let app = svc(&d, "app");
    assert_eq!(app.env("PORT"), Some("3000"));
    assert_eq!(app.env("DEBUG"), Some("true"));
    assert_eq!(app.env("RATIO"), Some("1.5"));
    assert_eq!(app.env("FROM_PROCESS"), Some("yes"));
    assert!(app.environment.contains_key("MISSING"));
    assert_eq!(app.environment["MISSING"].value, None);
    assert_eq!(app.environment["PORT"].source, EnvSource::Environment);
    assert_eq!(app.environment["PORT"].span, span("compose.yaml", 5, 13));
    let w = svc(&d, "worker");
    assert_eq!(w.env("QUEUE"), Some("jobs"));
    assert_eq!(w.environment["QUEUE"].span, span("compose.yaml", 13, 15));
    assert_eq!(w.env("QUOTED"), Some("a b"));
    assert_eq!(w.environment["QUOTED"].span, span("compose.yaml", 14, 17));
    assert_eq!(w.env("FROM_PROCESS"), Some("yes"));
    assert_eq!(w.environment["MISSING"].value, None);
    assert_eq!(w.env("EMPTY"), Some(""));
}

#[test]
fn env_file_forms_precedence_and_missing_files() {
    let p = Project::new(&[
        (
            "compose.yaml",
            "services:\n  app:\n    image: x\n    env_file:\n      - common.env\n      - path: local.env\n        required: false\n      - path: secret.env\n    environment:\n      LEVEL: from-compose\n  one:\n    image: x\n    env_file: common.env\n",
        ),
        ("common.env", "LEVEL=from-common\nSHARED=common\n"),
    ]);
    let d = p.load();
    let app = svc(&d, "app");
    let files: Vec<&str> = app.env_files.iter().map(|f| f.value.as_str()).collect();
    assert_eq!(files, ["common.env", "local.env", "secret.env"]);
    assert_eq!(app.env("SHARED"), Some("common"));
    assert_eq!(
        app.environment["SHARED"].source,
        EnvSource::EnvFile("common.env".into())
    );
    assert_eq!(
        app.environment["SHARED"].span.as_ref().unwrap().file,
        "common.env"
    );
    assert_eq!(app.environment["SHARED"].span.as_ref().unwrap().line, 2);
    let level = &app.environment["LEVEL"];
    assert_eq!(level.value.as_deref(), Some("from-compose"));
    assert_eq!(level.shadowed.len(), 1);
    assert_eq!(level.shadowed[0].value.as_deref(), Some("from-common"));
    assert_eq!(
        level.shadowed[0].source,
        EnvSource::EnvFile("common.env".into())
    );
    assert_eq!(svc(&d, "one").env("LEVEL"), Some("from-common"));
    let missing: Vec<(&str, &str, bool)> = d
        .missing_env_files
        .iter()
        .map(|m| (m.service.as_str(), m.path.as_str(), m.required))
        .collect();
    assert_eq!(
        missing,
        [("app", "local.env", false), ("app", "secret.env", true)]
    );
    assert_eq!(d.missing_env_files[1].span, span("compose.yaml", 8, 15));
    // Parsed once even though two services name it.
    assert_eq!(d.env_files.len(), 1);
    assert_eq!(d.env_files[0].path, "common.env");
}

#[test]
fn interpolation_from_dotenv_and_process_env() {
    let p = Project::new(&[
        (
            "compose.yaml",
            "services:\n  app:\n    image: \"app:${TAG}\"\n    environment:\n      REDIS_URL: redis://${REDIS_HOST:-redis}:6379\n      WHO: ${WHO}\n      PRICE: $$5\n      GONE: ${NOT_SET}\n      NEED: ${MUST:?set MUST}\n",
        ),
        (".env", "TAG=from-dotenv\nWHO=dotenv\n"),
    ]);
    let d = p
        .load_with(|o| o.process_env = env(&[("WHO", "process")]))
        .unwrap();
    let app = svc(&d, "app");
    assert_eq!(app.image.as_ref().unwrap().value, "app:from-dotenv");
    assert_eq!(app.env("REDIS_URL"), Some("redis://redis:6379"));
    assert_eq!(
        app.environment["REDIS_URL"].raw.as_deref(),
        Some("redis://${REDIS_HOST:-redis}:6379")
    );
    assert_eq!(
        app.env("WHO"),
        Some("process"),
        "the process environment wins"
    );
    assert_eq!(app.env("PRICE"), Some("$5"));
    assert_eq!(app.env("GONE"), Some(""));
    let unset = d
        .interpolation
        .iter()
        .find(|f| f.variable == "NOT_SET")
        .expect("unset finding");
    assert_eq!(unset.kind, InterpolationProblem::Unset);
    assert_eq!(unset.span, span("compose.yaml", 8, 13));
    assert_eq!(unset.service.as_deref(), Some("app"));
    let required = d
        .interpolation
        .iter()
        .find(|f| f.variable == "MUST")
        .expect("required finding");
    assert!(matches!(&required.kind, InterpolationProblem::Required(m) if m == "set MUST"));
    assert_eq!(required.span, span("compose.yaml", 9, 13));
    assert_eq!(d.dotenv.as_ref().unwrap().path, ".env");
    assert_eq!(d.interpolation.len(), 2, "{:?}", d.interpolation);
}

#[test]
fn env_file_option_replaces_the_project_dotenv() {
    let p = Project::new(&[
        (
            "compose.yaml",
            "services:\n  app:\n    image: \"app:${TAG}\"\n",
        ),
        (".env", "TAG=default\n"),
        ("prod.env", "TAG=prod\n"),
    ]);
    let d = p
        .load_with(|o| o.env_file = Some(p.path().join("prod.env")))
        .unwrap();
    assert_eq!(svc(&d, "app").image.as_ref().unwrap().value, "app:prod");
    assert_eq!(d.dotenv.as_ref().unwrap().path, "prod.env");
    let e = p
        .load_with(|o| o.env_file = Some(p.path().join("nope.env")))
        .unwrap_err();
    assert!(input_error(&e).0.ends_with("nope.env"));
}

#[test]
fn invalid_interpolation_is_recorded_not_fatal() {
    let p = Project::new(&[(
        "compose.yaml",
        "services:\n  app:\n    image: \"app:${TAG\"\n",
    )]);
    let d = p.load();
    assert_eq!(d.interpolation.len(), 1);
    assert!(matches!(
        d.interpolation[0].kind,
        InterpolationProblem::Invalid(_)
    ));
    assert_eq!(d.interpolation[0].span, span("compose.yaml", 3, 12));
}

// ---------------------------------------------------------------- service attributes

#[test]
fn networks_default_aliases_and_top_level() {
    let p = Project::new(&[(
        "compose.yaml",
        "services:\n  plain:\n    image: x\n  listed:\n    image: x\n    networks: [front]\n  mapped:\n    image: x\n    networks:\n      back:\n        aliases: [cache, redis-master]\n      front:\n  host:\n    image: x\n    network_mode: host\nnetworks:\n  front:\n  back:\n    external: true\n    name: shared_back\n",
    )]);
    let d = p.load();
    let plain = &svc(&d, "plain").networks;
    assert_eq!(plain.len(), 1);
    assert_eq!(plain[0].name, "default");
    assert_eq!(svc(&d, "listed").networks[0].name, "front");
    assert_eq!(
        svc(&d, "listed").networks[0].span,
        span("compose.yaml", 6, 16)
    );
    let mapped = &svc(&d, "mapped").networks;
    assert_eq!(mapped[0].name, "back");
    assert_eq!(mapped[0].aliases, ["cache", "redis-master"]);
    assert_eq!(mapped[1].name, "front");
    assert!(svc(&d, "mapped").dns_names().contains(&"redis-master"));
    assert!(svc(&d, "host").networks.is_empty());
    assert_eq!(svc(&d, "host").network_mode.as_ref().unwrap().value, "host");
    assert_eq!(d.networks.len(), 2);
    assert!(!d.networks[0].external);
    assert!(d.networks[1].external);
    assert_eq!(d.networks[1].name.as_deref(), Some("shared_back"));
    assert_eq!(d.networks[1].span, span("compose.yaml", 18, 3));
}

#[test]
fn command_entrypoint_names_and_image() {
    let p = Project::new(&[(
        "compose.yaml",
        "services:\n  redis:\n    image: redis:7\n    container_name: beagle-redis\n    hostname: cache\n    command: redis-server --requirepass \"my secret\" --maxclients 100\n    entrypoint: [\"docker-entrypoint.sh\"]\n  built:\n    build: .\n",
    )]);
    let d = p.load();
    let r = svc(&d, "redis");
    assert_eq!(
        r.command.as_ref().unwrap().value,
        [
            "redis-server",
            "--requirepass",
            "my secret",
            "--maxclients",
            "100"
        ]
    );
    assert_eq!(
        r.entrypoint.as_ref().unwrap().value,
        ["docker-entrypoint.sh"]
    );
    assert_eq!(r.container_name.as_ref().unwrap().value, "beagle-redis");
    assert_eq!(
        r.container_name.as_ref().unwrap().span,
        span("compose.yaml", 4, 21)
    );
    assert_eq!(r.dns_names(), ["redis", "beagle-redis", "cache",]);
    assert!(svc(&d, "built").build);
    assert!(!r.build);
    assert!(d.secrets.redact("pw is my secret").contains("****"));
}

#[test]
fn ports_short_and_long_syntax() {
    let p = Project::new(&[(
        "compose.yaml",
        "services:\n  r:\n    image: redis\n    ports:\n      - \"6379\"\n      - 8080:80\n      - \"127.0.0.1:6380:6379\"\n      - \"9000-9002:9000-9002/udp\"\n      - 5000\n      - target: 80\n        published: \"8081\"\n        host_ip: 0.0.0.0\n        protocol: tcp\n",
    )]);
    let d = p.load();
    let ports = &svc(&d, "r").ports;
    let got: Vec<(Option<&str>, Option<&str>, &str, &str)> = ports
        .iter()
        .map(|p| {
            (
                p.host_ip.as_deref(),
                p.published.as_deref(),
                p.target.as_str(),
                p.protocol.as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (None, None, "6379", "tcp"),
            (None, Some("8080"), "80", "tcp"),
            (Some("127.0.0.1"), Some("6380"), "6379", "tcp"),
            (None, Some("9000-9002"), "9000-9002", "udp"),
            (None, None, "5000", "tcp"),
            (Some("0.0.0.0"), Some("8081"), "80", "tcp"),
        ]
    );
    assert_eq!(ports[2].span, span("compose.yaml", 7, 9));
    assert_eq!(ports[2].published_port(), Some(6380));
    assert_eq!(ports[5].span, span("compose.yaml", 10, 9));
}

#[test]
fn replicas_healthcheck_depends_on_labels_profiles() {
    let p = Project::new(&[(
        "compose.yaml",
        "services:\n  app:\n    image: x\n    deploy:\n      replicas: 3\n    healthcheck:\n      test: [\"CMD\", \"curl\", \"-f\", \"http://localhost\"]\n    depends_on:\n      redis:\n        condition: service_healthy\n      db:\n    labels:\n      traefik.enable: \"true\"\n    profiles: [web]\n  legacy:\n    image: x\n    scale: 2\n    healthcheck:\n      disable: true\n    depends_on: [app]\n    labels:\n      - a=b\n  off:\n    image: x\n    healthcheck:\n      test: [\"NONE\"]\n  redis:\n    image: redis\n  db:\n    image: db\n",
    )]);
    // `app` has a profile: only in the model when it is active.
    let d = p
        .load_with(|o| o.process_env = env(&[("COMPOSE_PROFILES", "web")]))
        .unwrap();
    let app = svc(&d, "app");
    assert_eq!(app.replicas.as_ref().unwrap().value, 3);
    assert_eq!(
        app.replicas.as_ref().unwrap().span,
        span("compose.yaml", 5, 17)
    );
    assert_eq!(app.healthcheck, span("compose.yaml", 6, 5));
    let deps: Vec<(&str, Option<&str>)> = app
        .depends_on
        .iter()
        .map(|d| (d.service.as_str(), d.condition.as_deref()))
        .collect();
    assert_eq!(deps, [("redis", Some("service_healthy")), ("db", None)]);
    assert_eq!(app.labels["traefik.enable"].value, "true");
    assert_eq!(app.profiles, ["web"]);
    let legacy = svc(&d, "legacy");
    assert_eq!(legacy.replicas.as_ref().unwrap().value, 2);
    assert_eq!(legacy.healthcheck, None);
    assert_eq!(legacy.depends_on[0].service, "app");
    assert_eq!(legacy.depends_on[0].condition, None);
    assert_eq!(legacy.labels["a"].value, "b");
    assert_eq!(svc(&d, "off").healthcheck, None);
    assert!(d.structure.is_empty(), "{:?}", d.structure);
}

#[test]
fn extends_in_the_same_file_and_from_another_file() {
    let p = Project::new(&[
        (
            "compose.yaml",
            "services:\n  base:\n    image: app\n    environment:\n      A: base\n      B: base\n  web:\n    extends: base\n    environment:\n      A: web\n  worker:\n    extends:\n      file: common/services.yml\n      service: queue\n    command: work\n",
        ),
        (
            "common/services.yml",
            "services:\n  queue:\n    image: queue:1\n    env_file: queue.env\n    command: idle\n",
        ),
        ("common/queue.env", "QUEUE=jobs\n"),
    ]);
    let d = p.load();
    let web = svc(&d, "web");
    assert_eq!(web.image.as_ref().unwrap().value, "app");
    assert_eq!(web.env("A"), Some("web"));
    assert_eq!(web.env("B"), Some("base"));
    assert_eq!(
        web.environment["A"].shadowed[0].value.as_deref(),
        Some("base")
    );
    let worker = svc(&d, "worker");
    assert_eq!(worker.image.as_ref().unwrap().value, "queue:1");
    assert_eq!(
        worker.image.as_ref().unwrap().span,
        span("common/services.yml", 3, 12)
    );
    assert_eq!(worker.command.as_ref().unwrap().value, ["work"]);
    // env_file of the extended service is relative to its own file.
    assert_eq!(worker.env_files[0].value, "common/queue.env");
    assert_eq!(worker.env("QUEUE"), Some("jobs"));
    assert!(d.structure.is_empty(), "{:?}", d.structure);
}

#[test]
fn extends_of_a_missing_file_or_service_is_a_structure_problem() {
    let p = Project::new(&[(
        "compose.yaml",
        "services:\n  a:\n    image: x\n    extends:\n      file: nowhere.yml\n      service: base\n  b:\n    image: y\n    extends: ghost\n",
    )]);
    let d = p.load();
    assert_eq!(svc(&d, "a").image.as_ref().unwrap().value, "x");
    assert_eq!(d.structure.len(), 2, "{:?}", d.structure);
    assert!(d.structure[0].message.contains("nowhere.yml"));
    assert_eq!(d.structure[0].span, span("compose.yaml", 5, 7));
    assert!(d.structure[1].message.contains("ghost"));
    assert_eq!(d.structure[1].span, span("compose.yaml", 9, 14));
}

#[test]
fn secrets_and_inline_ignores_are_collected() {
    let p = Project::new(&[
        (
            "compose.yaml",
            "services:\n  app:\n    image: x\n    environment:\n      REDIS_URL: redis://default:hunter22@redis:6379 # wsdoctor: ignore=config.redis-url-host -- ok here\n      API_TOKEN: tok-123456\n  redis:\n    image: redis\n    command: [\"sh\", \"-c\", \"redis-server --requirepass s3cr3tpw\"]\n    healthcheck:\n      test: redis-cli -a hcpass77 ping\n    labels:\n      backup: \"s3://u:labelpw1@bucket\"\n",
        ),
        (
            ".env",
            "DB_PASSWORD=dbpass99 # wsdoctor: ignore=config.env-syntax\n",
        ),
    ]);
    let d = p.load();
    let shown = d.secrets.redact("hunter22 tok-123456 s3cr3tpw dbpass99");
    assert_eq!(shown, "**** **** **** ****");
    let ignores: Vec<(&str, u32, &str)> = d
        .ignores
        .iter()
        .map(|i| (i.file.as_str(), i.line, i.ids[0].as_str()))
        .collect();
    assert!(
        ignores.contains(&(".env", 1, "config.env-syntax")),
        "{ignores:?}"
    );
    assert!(
        ignores.contains(&("compose.yaml", 5, "config.redis-url-host")),
        "{ignores:?}"
    );
}

#[test]
fn files_outside_the_project_are_shown_as_given() {
    let other = Project::new(&[("elsewhere.yml", "services:\n  x:\n    image: x\n")]);
    let p = Project::new(&[("compose.yaml", "services:\n  a:\n    image: a\n")]);
    let outside = other.path().join("elsewhere.yml");
    let d = p
        .load_with(|o| o.files = vec![p.path().join("compose.yaml"), outside.clone()])
        .unwrap();
    assert_eq!(d.compose_files[0], "compose.yaml");
    assert_eq!(d.compose_files[1], outside.display().to_string());
}

// ---------------------------------------------------------------- wrong shapes (not errors)

#[test]
fn wrong_shapes_are_structure_problems() {
    let p = Project::new(&[(
        "compose.yaml",
        "services:\n  a:\n    image: x\n    ports:\n      http: 80\n    environment: 42\n    deploy:\n      replicas: three\n    command: {a: 1}\n",
    )]);
    let d = p.load();
    let got: Vec<(Option<Span>, bool)> = d
        .structure
        .iter()
        .map(|s| (s.span.clone(), !s.message.is_empty()))
        .collect();
    assert_eq!(
        got,
        [
            (span("compose.yaml", 9, 14), true),
            (span("compose.yaml", 6, 18), true),
            (span("compose.yaml", 5, 7), true),
            (span("compose.yaml", 8, 17), true),
        ],
        "{:?}",
        d.structure
    );
    assert!(d.structure[3].message.contains("three"));
}

#[test]
fn empty_file_is_a_structure_problem() {
    let p = Project::new(&[("compose.yaml", "# nothing yet\n")]);
    let d = p.load();
    assert!(d.services.is_empty());
    assert_eq!(d.structure.len(), 1);
}

// ------------------------------------- files that do not parse (findings), bad input (exit 2)

#[test]
fn invalid_yaml_has_file_line_and_column() {
    let p = Project::new(&[(
        "compose.yaml",
        "services:\n  app:\n    image: x\n   ports: [1\n",
    )]);
    let e = p.err();
    let (file, line, column, message) = input_error(&e);
    assert_eq!(file, "compose.yaml");
    assert!(line.is_some() && column.is_some(), "{e}");
    assert!(message.starts_with("invalid YAML"), "{message}");
}

#[test]
fn top_level_list_or_scalar_is_refused() {
    for (text, kind) in [("- a\n- b\n", "a list"), ("just text\n", "a string")] {
        let p = Project::new(&[("compose.yaml", text)]);
        let e = p.err();
        let (file, line, _, message) = input_error(&e);
        assert_eq!(file, "compose.yaml");
        assert_eq!(line, Some(1));
        assert!(message.contains(kind), "{message}");
    }
}

#[test]
fn services_not_a_mapping_is_refused() {
    let p = Project::new(&[("compose.yaml", "services:\n  - web\n  - redis\n")]);
    let e = p.err();
    let (_, line, column, message) = input_error(&e);
    assert_eq!((line, column), (Some(2), Some(3)));
    assert!(message.contains("services"), "{message}");
}

#[test]
fn non_utf8_file_gives_the_line() {
    let p = Project::new(&[]);
    p.write("compose.yaml", b"services:\n  app:\n    image: caf\xe9\n");
    let e = p.err();
    let (file, line, column, _) = input_error(&e);
    assert_eq!(file, "compose.yaml");
    assert_eq!((line, column), (Some(3), Some(15)));
}

#[test]
fn unreadable_dash_f_file() {
    let p = Project::new(&[]);
    let e = p
        .load_with(|o| o.files = vec![p.path().join("missing.yml")])
        .unwrap_err();
    let (file, _, _, message) = input_error(&e);
    assert_eq!(file, "missing.yml");
    assert!(message.contains("no such file"), "{message}");
}

#[test]
fn alias_bomb_is_rejected_fast() {
    let mut text = String::from(
        "x-a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    let mut prev = String::from("a");
    for n in ["b", "c", "d", "e", "f", "g", "h", "i"] {
        let refs = vec![format!("*{prev}"); 9].join(",");
        text.push_str(&format!("x-{n}: &{n} [{refs}]\n"));
        prev = n.to_string();
    }
    text.push_str("services:\n  app:\n    image: x\n    command: *i\n");
    let p = Project::new(&[("compose.yaml", &text)]);
    let started = Instant::now();
    let e = p.err();
    assert!(started.elapsed() < Duration::from_secs(5));
    let (file, _, _, message) = input_error(&e);
    assert_eq!(file, "compose.yaml");
    assert!(message.contains("alias"), "{message}");
}

#[test]
fn fifty_megabyte_file_is_refused_by_size() {
    let p = Project::new(&[]);
    let mut text = String::from("services:\n  app:\n    image: x\n    environment:\n");
    let line =
        "      K: vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv\n";
    while text.len() < 50 * 1024 * 1024 {
        text.push_str(line);
    }
    p.write("compose.yaml", text.as_bytes());
    drop(text);
    let started = Instant::now();
    let e = p.err();
    assert!(started.elapsed() < Duration::from_secs(5));
    let (file, _, _, message) = input_error(&e);
    assert_eq!(file, "compose.yaml");
    assert!(message.contains("too large"), "{message}");
}

#[test]
fn deep_nesting_is_refused() {
    let depth = 5000;
    let text = format!(
        "services:\n  app:\n    x-deep: {}{}\n",
        "[".repeat(depth),
        "]".repeat(depth)
    );
    let p = Project::new(&[("compose.yaml", &text)]);
    let e = p.err();
    let (file, line, _, _) = input_error(&e);
    assert_eq!(file, "compose.yaml");
    assert_eq!(line, Some(3));
}

#[test]
fn include_brings_services_with_their_own_relative_paths() {
    let p = Project::new(&[
        (
            "compose.yaml",
            "include:\n  - sub/redis.yaml\n  - path: missing.yaml\nservices:\n  app:\n    image: app\n    depends_on: [redis]\n",
        ),
        (
            "sub/redis.yaml",
            "include:\n  - ../compose.yaml\nservices:\n  redis:\n    image: redis:7\n    env_file: redis.env\n",
        ),
        ("sub/redis.env", "REDIS_PASSWORD=pw-from-include\n"),
    ]);
    let d = p.load();
    assert_eq!(names(&d), ["redis", "app"]);
    let redis = svc(&d, "redis");
    assert_eq!(
        redis.image.as_ref().unwrap().span,
        span("sub/redis.yaml", 5, 12)
    );
    assert_eq!(redis.env("REDIS_PASSWORD"), Some("pw-from-include"));
    let problems: Vec<(&str, Option<Span>)> = d
        .structure
        .iter()
        .map(|s| (s.message.as_str(), s.span.clone()))
        .collect();
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems[0].0.contains("cycle"), "{problems:?}");
    assert_eq!(problems[0].1, span("sub/redis.yaml", 2, 5));
    assert!(problems[1].0.contains("missing.yaml"), "{problems:?}");
    assert_eq!(problems[1].1, span("compose.yaml", 3, 11));
}

#[test]
fn non_utf8_dotenv_and_env_file_are_input_errors() {
    let p = Project::new(&[("compose.yaml", "services:\n  app:\n    image: x\n")]);
    p.write(".env", b"A=1\nB=caf\xe9\n");
    let e = p.err();
    let (file, line, _, _) = input_error(&e);
    assert_eq!((file, line), (".env", Some(2)));

    let p = Project::new(&[(
        "compose.yaml",
        "services:\n  app:\n    image: x\n    env_file: app.env\n",
    )]);
    p.write("app.env", b"\xff\xfeA=1\n");
    let e = p.err();
    let (file, line, _, _) = input_error(&e);
    assert_eq!((file, line), ("app.env", Some(1)));
}

#[test]
fn compose_project_name_is_available_to_interpolation() {
    // compose-go sets COMPOSE_PROJECT_NAME for interpolation from `name:` or the directory.
    let p = Project::new(&[(
        "compose.yaml",
        "name: Chat\nservices:\n  app:\n    image: x\n    container_name: ${COMPOSE_PROJECT_NAME}-app\n",
    )]);
    let d = p.load();
    assert_eq!(
        svc(&d, "app").container_name.as_ref().unwrap().value,
        "chat-app"
    );
    assert!(d.interpolation.is_empty(), "{:?}", d.interpolation);
}

// ---------------------------------------------------------------- through the binary

/// Runs `wsdoctor ARGS --format json` in `cwd` with only the given COMPOSE_* / DOCKER_*
/// variables set (the caller's own are removed so the test does not depend on them).
fn wsdoctor_json(
    cwd: &Path,
    args: &[&str],
    vars: &[(&str, &str)],
) -> (i32, serde_json::Value, String) {
    let mut cmd = assert_cmd::Command::cargo_bin("wsdoctor").unwrap();
    cmd.current_dir(cwd).args(args).args(["--format", "json"]);
    for v in [
        "COMPOSE_FILE",
        "COMPOSE_PROFILES",
        "COMPOSE_PROJECT_NAME",
        "COMPOSE_PATH_SEPARATOR",
        "REDIS_URL",
        "REDIS_PASSWORD",
    ] {
        cmd.env_remove(v);
    }
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let report = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("no JSON report ({e}); stderr: {stderr}"));
    (out.status.code().unwrap_or(-1), report, stderr)
}

/// The results of check `id` as (status, subject, message).
fn results(report: &serde_json::Value, id: &str) -> Vec<(String, String, String)> {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["id"] == id)
        .map(|c| {
            (
                c["status"].as_str().unwrap_or_default().to_string(),
                c["subject"].as_str().unwrap_or_default().to_string(),
                c["message"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// Open WebUI with its Redis under the `cache` profile, and a `debug` tool under `debug`
/// whose REDIS_URL names a host that does not exist.
const PROFILED: &str = "services:
  open-webui:
    image: ghcr.io/open-webui/open-webui:main
    environment:
      WEBSOCKET_MANAGER: redis
      REDIS_URL: redis://redis:6379/0
  redis:
    image: redis:7.2-alpine
    profiles: [cache]
  debug:
    image: ghcr.io/open-webui/open-webui:main
    profiles: [debug]
    environment:
      WEBSOCKET_MANAGER: redis
      REDIS_URL: redis://nowhere:6379/0
";

#[test]
fn a_redis_under_an_inactive_profile_is_not_started() {
    let p = Project::new(&[("compose.yaml", PROFILED)]);
    let dir = p.path().to_str().unwrap();
    let lint = |extra: &[&str], vars: &[(&str, &str)]| {
        let mut args = vec!["lint", "--project-dir", dir];
        args.extend_from_slice(extra);
        let (code, report, _) = wsdoctor_json(p.path(), &args, vars);
        (code, results(&report, "config.redis-url-host"))
    };

    // No profile active: the app's Redis is not started, and the debug service is left out.
    let (code, found) = lint(&[], &[]);
    assert_eq!(code, 1);
    assert_eq!(found.len(), 1, "{found:?}");
    let (status, subject, message) = &found[0];
    assert_eq!((status.as_str(), subject.as_str()), ("fail", "open-webui"));
    assert_eq!(
        message,
        "open-webui REDIS_URL: host 'redis' is service redis, which is not started unless profile cache is active (no profile is active): the app's Redis is not started"
    );

    // --profile, COMPOSE_PROFILES and `*` start it.
    for (extra, vars) in [
        (&["--profile", "cache"][..], &[][..]),
        (&[][..], &[("COMPOSE_PROFILES", "other, cache")][..]),
        (&["--profile", "*"][..], &[][..]),
    ] {
        let (_, found) = lint(extra, vars);
        let statuses: Vec<(&str, &str)> = found
            .iter()
            .map(|(s, subject, _)| (s.as_str(), subject.as_str()))
            .collect();
        let want: &[(&str, &str)] = if extra.contains(&"*") {
            // `*` also starts `debug`, whose host is wrong.
            &[("pass", "open-webui"), ("fail", "debug")]
        } else {
            &[("pass", "open-webui")]
        };
        assert_eq!(statuses, want, "{extra:?} {vars:?}");
    }

    // The flag replaces the variable, as in compose.
    let (_, found) = lint(&["--profile", "debug"], &[("COMPOSE_PROFILES", "cache")]);
    let got: Vec<(&str, &str)> = found
        .iter()
        .map(|(s, subject, _)| (s.as_str(), subject.as_str()))
        .collect();
    assert_eq!(got, [("fail", "open-webui"), ("fail", "debug")]);
    assert!(found[0].2.contains("(active: debug)"), "{}", found[0].2);
}

#[test]
fn compose_file_relative_entries_follow_the_working_directory() {
    // COMPOSE_FILE=deploy/compose.yml from the repository root: the project directory is
    // deploy/, whose .env gives ${REDIS_HOST} (compose reads the .env of the project
    // directory, not of the working directory).
    let p = Project::new(&[
        (
            "deploy/compose.yml",
            "services:\n  open-webui:\n    image: ghcr.io/open-webui/open-webui:main\n    environment:\n      WEBSOCKET_MANAGER: redis\n      REDIS_URL: redis://${REDIS_HOST}:6379/0\n",
        ),
        (
            "deploy/redis.yml",
            "services:\n  cache:\n    image: redis:7.2-alpine\n",
        ),
        ("deploy/.env", "REDIS_HOST=cache\n"),
        ("compose.yaml", "services:\n  ignored:\n    image: redis\n"),
    ]);
    let (_, report, stderr) = wsdoctor_json(
        p.path(),
        &["lint"],
        &[
            ("COMPOSE_FILE", "deploy/compose.yml|deploy/redis.yml"),
            ("COMPOSE_PATH_SEPARATOR", "|"),
        ],
    );
    let found = results(&report, "config.redis-url-host");
    assert_eq!(found.len(), 1, "{found:?} {stderr}");
    assert_eq!(
        found[0].2,
        "open-webui REDIS_URL: host 'cache' is the service name of service cache"
    );
    assert!(
        results(&report, "config.interpolation-unset")
            .iter()
            .all(|(s, _, _)| s != "warn" && s != "fail")
    );
}

#[test]
fn project_name_flag_and_variable_feed_the_docker_lookup() {
    // A real engine answers the lookup; the project searched for is in the report.
    let p = Project::new(&[(
        "compose.yaml",
        "name: from-file\nservices:\n  redis:\n    image: redis\n",
    )]);
    let dir = p.path().to_str().unwrap();
    let engine = std::path::Path::new("/var/run/docker.sock").exists()
        || std::env::var_os("DOCKER_HOST").is_some();
    if !engine {
        assert!(std::env::var("CI").is_err(), "no Docker engine under CI");
        eprintln!("SKIPPED: no Docker engine here");
        return;
    }
    let project_of = |args: &[&str], vars: &[(&str, &str)]| {
        let (_, report, stderr) = wsdoctor_json(p.path(), args, vars);
        let found = report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == "docker.containers")
            .unwrap_or_else(|| panic!("no docker.containers: {stderr}"))
            .clone();
        found["evidence"]["project"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(
        project_of(&["docker", "--project-dir", dir], &[]),
        "from-file"
    );
    assert_eq!(
        project_of(&["docker", "--project-dir", dir, "-p", "My.Stack"], &[]),
        "mystack"
    );
    assert_eq!(
        project_of(
            &["docker", "--project-dir", dir],
            &[("COMPOSE_PROJECT_NAME", "from-env")]
        ),
        "from-env"
    );
    // The flag wins over the variable.
    assert_eq!(
        project_of(
            &["docker", "--project-dir", dir, "--project-name", "flag"],
            &[("COMPOSE_PROJECT_NAME", "from-env")]
        ),
        "flag"
    );
}

#[test]
fn aioredis_in_poetry_and_single_quoted_pep621_lists_is_found() {
    let compose = "services:\n  api:\n    build: ./api\n    command: uvicorn app:asgi --workers 2\n    environment:\n      WEBSOCKET_MANAGER: redis\n      REDIS_URL: redis://redis:6379/0\n  redis:\n    image: redis:7\n";
    let cases = [
        (
            "poetry",
            "[tool.poetry]\nname = \"api\"\n\n[tool.poetry.dependencies]\npython = \"^3.11\"\npython-socketio = \"^5.11\"\naioredis = \"^1.3\"\n",
            "api/pyproject.toml:7",
        ),
        (
            "pep621",
            "[project]\nname = 'api'\ndependencies = [\n  'python-socketio>=5.11',\n  'aioredis==1.3.1',\n]\n",
            "api/pyproject.toml:5",
        ),
        (
            "txt continuation",
            "python-socketio==5.11.2 \\\n    --hash=sha256:00\naioredis==1.3.1 --hash=sha256:11\n",
            "api/requirements.txt:3",
        ),
    ];
    for (what, text, at) in cases {
        let file = if at.contains("pyproject") {
            "api/pyproject.toml"
        } else {
            "api/requirements.txt"
        };
        let p = Project::new(&[("compose.yaml", compose), (file, text)]);
        let (code, report, _) = wsdoctor_json(
            p.path(),
            &["lint", "--project-dir", p.path().to_str().unwrap()],
            &[],
        );
        let found: Vec<&serde_json::Value> = report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["id"] == "config.aioredis-conflict")
            .collect();
        assert_eq!(found.len(), 1, "{what}: {found:?}");
        assert_eq!(found[0]["status"], "fail", "{what}: {:#}", found[0]);
        let location = format!(
            "{}:{}",
            found[0]["location"]["file"].as_str().unwrap_or_default(),
            found[0]["location"]["line"]
        );
        assert_eq!(location, at, "{what}");
        assert_eq!(code, 1, "{what}");
    }
}

#[test]
fn compose_profiles_from_the_dotenv_and_inactive_services_kept_apart() {
    let p = Project::new(&[
        ("compose.yaml", PROFILED),
        (".env", "COMPOSE_PROFILES=debug\n"),
    ]);
    let d = p.load();
    assert_eq!(d.active_profiles, ["debug"]);
    assert_eq!(names(&d), ["open-webui", "debug"]);
    let inactive: Vec<&str> = d
        .inactive_services
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(inactive, ["redis"]);
    // The process environment wins over the .env, as for every variable.
    let d = p
        .load_with(|o| o.process_env = env(&[("COMPOSE_PROFILES", " cache , ")]))
        .unwrap();
    assert_eq!(d.active_profiles, ["cache"]);
    assert_eq!(names(&d), ["open-webui", "redis"]);
}

#[test]
fn discovery_in_a_parent_makes_it_the_project_directory() {
    // Run from sub/deeper without --project-dir: compose finds ../../compose.yaml, and the
    // project directory (and its .env) is that file's directory.
    let p = Project::new(&[
        (
            "compose.yaml",
            "services:\n  open-webui:\n    image: ghcr.io/open-webui/open-webui:main\n    environment:\n      WEBSOCKET_MANAGER: redis\n      REDIS_URL: redis://${REDIS_HOST}:6379/0\n  cache:\n    image: redis:7.2-alpine\n",
        ),
        (".env", "REDIS_HOST=cache\n"),
        ("sub/deeper/readme.txt", "here\n"),
    ]);
    let (_, report, stderr) = wsdoctor_json(&p.path().join("sub/deeper"), &["lint"], &[]);
    let found = results(&report, "config.redis-url-host");
    assert_eq!(
        found,
        [(
            "pass".to_string(),
            "open-webui".to_string(),
            "open-webui REDIS_URL: host 'cache' is the service name of service cache".to_string()
        )],
        "{stderr}"
    );
}
