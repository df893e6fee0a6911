//! The fuzz harnesses, shared by the cargo-fuzz targets (`fuzz/fuzz_targets/*.rs`) and the
//! regression test (`tests/fuzz_regressions.rs`, which runs every input of
//! `tests/fuzz_corpus/<target>/` through the same function). Each harness feeds arbitrary
//! bytes to one parser the way wsdoctor does with untrusted input: it must never panic, hang
//! or allocate without bound.

#![allow(dead_code)]

use std::path::Path;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use wsdoctor::config::{dotenv, interpolate, redis_url, yaml};
use wsdoctor::probe::engineio::codec::{self, EioPacket, OpenPacket, SioPacket};
use wsdoctor::probe::engineio::net::{HttpAnswer, NetError, NetErrorKind, Reachability};
use wsdoctor::probe::engineio::websocket::{UpgradeAnswer, dechunk};
use wsdoctor::probe::engineio::{
    ConnectObs, PathAttempt, Target, UpgradeObs, WsHandshake, WsObservations, WsOutcome,
    open_packet_of,
};
use wsdoctor::probe::redis::{parse as redis_parse, target as redis_target};

/// The fuzz targets, by name (the names of `fuzz/fuzz_targets/*.rs` and of the corpus
/// directories under `tests/fuzz_corpus/`).
pub const TARGETS: [&str; 7] = [
    "dotenv",
    "interpolate",
    "compose",
    "redis_url",
    "engineio_codec",
    "redis_replies",
    "ws_classifier",
];

/// Runs `data` through the harness called `target`; `scratch` is a directory the compose
/// harness may write its file into.
pub fn run(target: &str, data: &[u8], scratch: &Path) {
    match target {
        "dotenv" => dotenv_parse(data),
        "interpolate" => interpolation(data),
        "compose" => compose(data, scratch),
        "redis_url" => redis_urls(data),
        "engineio_codec" => engineio_codec(data),
        "redis_replies" => redis_replies(data),
        "ws_classifier" => ws_classifier(data),
        other => panic!("unknown fuzz target {other}"),
    }
}

/// A lookup that knows a few names, so `${VAR:-…}`/`${VAR:?…}` take both branches.
fn lookup(name: &str) -> Option<String> {
    match name {
        "HOME" => Some("/home/user".into()),
        "EMPTY" => Some(String::new()),
        "NESTED" => Some("${HOME}".into()),
        n if n.len() == 1 => Some(n.repeat(3)),
        _ => None,
    }
}

pub fn dotenv_parse(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let file = dotenv::parse(".env", text, &lookup);
    let _ = file.to_map();
    let earlier = |n: &str| (n == "A").then(|| "a".to_string());
    let _ = dotenv::parse_with_fallback(".env", text, &|_| None, &earlier);
}

pub fn interpolation(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(e) = interpolate::interpolate(text, &lookup) {
        let _ = e.to_string();
    }
}

/// The compose loader end to end, as `wsdoctor lint` runs it: the text is the project's only
/// compose file, then every config check judges the deployment.
pub fn compose(data: &[u8], scratch: &Path) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = yaml::parse_documents(text);
    }
    let file = scratch.join("compose.yaml");
    if std::fs::write(&file, data).is_err() {
        return;
    }
    let opts = wsdoctor::config::compose::LoadOptions {
        project_dir: scratch.to_path_buf(),
        files: vec![file],
        env_file: Some(scratch.join("no-such.env")),
        process_env: [("HOME".to_string(), "/home/user".to_string())].into(),
    };
    if let Ok(deployment) = wsdoctor::config::compose::load(&opts) {
        let _ = wsdoctor::checks::config::run(&deployment, None);
    }
}

pub fn redis_urls(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(url) = redis_url::parse(text) {
        let _ = url.display();
        let _ = url.display_redacted();
    }
    let _ = redis_url::find_unencoded_password(text);
    if let Ok(t) = redis_target::parse_url(text) {
        let _ = t.display();
    }
    let _ = redis_target::HostPort::parse(text, 6379);
    let _ = redis_url::is_loopback(text);
    let _ = redis_url::looks_external(text);
    let mut secrets = wsdoctor::redact::Secrets::default();
    secrets.add_url_passwords(text);
}

pub fn engineio_codec(data: &[u8]) {
    let _ = codec::decode_v3_payload(data);
    let _ = open_packet_of(data);
    let _ = dechunk(data);
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(packets) = codec::decode_v4_payload(text) {
        for p in packets {
            let _ = OpenPacket::parse(&p.data);
            let _ = SioPacket::parse(&p.data);
        }
    }
    if let Some(p) = EioPacket::parse(text) {
        let _ = SioPacket::parse(&p.data);
    }
    if let Some(open) = OpenPacket::parse(text) {
        let _ = open.offers_websocket();
    }
    if let Some(p) = SioPacket::parse(text) {
        let _ = p.namespace();
        if let SioPacket::ConnectError { data, .. } = &p {
            let _ = codec::connect_error_message(data);
        }
    }
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(text) {
        let _ = codec::connect_error_message(&v);
    }
    let _ = codec::engineio_error_message(text);
    let _ = codec::is_version_refusal(text);
    let _ = codec::is_unknown_session(text);
    let _ = codec::is_transport_refusal(text);
}

pub fn redis_replies(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = redis_parse::parse_info(&text);
    for c in redis_parse::parse_client_list(&text) {
        let _ = (c.is_subscriber(), c.is_internal());
    }
    for n in redis_parse::parse_cluster_nodes(&text) {
        let _ = (n.is_master(), n.is_failing(), n.is_myself());
    }
}

/// Splits the input on 0xFF into the parts of an observation: status, headers, the polling
/// body, the websocket refusal body, the EIO=3 body, the CONNECT answer, the upgrade answer.
pub fn ws_classifier(data: &[u8]) {
    let mut parts = data.split(|b| *b == 0xff);
    let status_bytes = parts.next().unwrap_or_default();
    let status = match status_bytes {
        [a, b, ..] => 100 + u16::from_be_bytes([*a, *b]) % 500,
        [a] => 100 + u16::from(*a) % 500,
        [] => 200,
    };
    let headers = header_map(parts.next().unwrap_or_default());
    let polling_body = parts.next().unwrap_or_default().to_vec();
    let ws_body = parts.next().map(<[u8]>::to_vec);
    let eio3_body = parts.next().map(<[u8]>::to_vec);
    let connect = parts
        .next()
        .map(|b| String::from_utf8_lossy(b).into_owned());
    let upgrade = parts
        .next()
        .map(|b| String::from_utf8_lossy(b).into_owned());

    let _ = codec::is_engineio_answer(status, &polling_body);
    let answer = |status: u16, body: Vec<u8>| {
        let truncated = body.len() > 4096;
        HttpAnswer::new(status, &headers, body, truncated)
    };
    let polling = answer(status, polling_body.clone());
    let _ = polling.body_text();
    let _ = polling.server();
    let Ok(target) = Target::parse("http://127.0.0.1:5000", None) else {
        return;
    };
    let attempt = |a: HttpAnswer, q: &str| PathAttempt {
        path: "/socket.io".into(),
        url: format!("http://127.0.0.1:5000/socket.io/?{q}"),
        answer: Ok(a),
    };
    let ws_outcome = match &ws_body {
        None => WsOutcome::Failed(NetError::new(
            NetErrorKind::Protocol,
            "websocket upgrade",
            "garbage",
        )),
        Some(b) if b.first() == Some(&b'!') => WsOutcome::Upgraded(UpgradeAnswer {
            status: 101,
            headers: Vec::new(),
            elapsed_ms: 1,
        }),
        Some(b) => WsOutcome::Refused(answer(status ^ 1, b.clone())),
    };
    let open = std::str::from_utf8(&polling_body)
        .ok()
        .and_then(|t| t.strip_prefix('0'))
        .and_then(OpenPacket::parse);
    let connect_obs = connect.map(|text| ConnectObs {
        transport: "websocket",
        namespace: "/".into(),
        with_auth: text.len() % 2 == 0,
        answer: SioPacket::parse(&text),
        taken_back: text.get(1..).and_then(SioPacket::parse),
        error: None,
        packets: vec![text.clone()],
        elapsed_ms: 1,
    });
    let upgrade_obs = upgrade.map(|text| UpgradeObs {
        open: open.clone(),
        handshake: Some(Ok(answer(200, polling_body.clone()))),
        websocket: Some(ws_outcome.clone()),
        probe_answer: Some(text.clone()),
        upgraded: text.starts_with('5'),
        after_upgrade: SioPacket::parse(&text),
        error: None,
        packets: vec![text],
        elapsed_ms: 1,
    });
    let obs = WsObservations {
        target: target.clone(),
        namespace: "/".into(),
        reach: Reachability {
            host: "127.0.0.1".into(),
            port: 5000,
            tls: false,
            addresses: vec!["127.0.0.1:5000".into()],
            connected: Some("127.0.0.1:5000".into()),
            error: None,
            elapsed_ms: 0,
        },
        path_attempts: vec![attempt(polling, "EIO=4&transport=polling")],
        path: "/socket.io".into(),
        websocket: Some(WsHandshake {
            url: "ws://127.0.0.1:5000/socket.io/?EIO=4&transport=websocket".into(),
            outcome: ws_outcome,
            open,
            open_error: None,
        }),
        eio3: eio3_body.map(|b| attempt(answer(200, b), "EIO=3&transport=polling")),
        connect: connect_obs,
        upgrade: upgrade_obs,
        cors: None,
        sticky: None,
        heartbeat: None,
        stopped: None,
        hold: None,
        rounds: 20,
        origin: None,
        budget_ms: 3000,
        waiting: Vec::new(),
        elapsed_ms: 0,
    };
    let results =
        wsdoctor::checks::ws::judge(&obs, &wsdoctor::checks::ws::AppExpectations::default());
    let _ = serde_json::to_string(&results);
}

/// `name: value` lines; invalid names or values are skipped, as the HTTP client would refuse
/// them before wsdoctor sees them.
fn header_map(raw: &[u8]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for line in raw.split(|b| *b == b'\n') {
        let Some(colon) = line.iter().position(|b| *b == b':') else {
            continue;
        };
        let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(&line[..colon]),
            HeaderValue::from_bytes(line[colon + 1..].trim_ascii()),
        ) else {
            continue;
        };
        map.append(name, value);
    }
    map
}
