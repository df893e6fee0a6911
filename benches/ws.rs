//! Benchmark of the `ws` probe against a local healthy python-socketio server (1 uvicorn
//! worker, both transports). Prints medians; asserts nothing (speed is measured here, never
//! in timed tests). Run: `cargo bench --bench ws`.
//!
//! Targets (issue 4): handshake + connect ≤ 20 ms; 20 sticky rounds ≤ 300 ms.
//! Targets (issue 11): the default probe on a healthy local server ≤ 1.2 × (handshake + the
//! longer of the take-back window and the sticky rounds); against a server that never
//! answers CONNECT ≤ --timeout + 0.5 s in total.

#[path = "../tests/ws_support/mod.rs"]
#[allow(unused_macros)]
mod ws_support;

use std::time::{Duration, Instant};

use wsdoctor::probe::engineio::{self, Target, WsProbeOptions, net};

const ITERATIONS: usize = 30;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let server = match ws_support::SioServer::start(1, &[]) {
        Ok(s) => s,
        Err(e) => {
            ws_support::missing("bench ws", &e);
            return;
        }
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let target = Target::parse(&server.url(), None).expect("target");
    let timeout = Duration::from_secs(5);
    let client = net::http_client(None, false).expect("client");
    let polling_url = target.url("/socket.io", false, "EIO=4&transport=polling");

    // Warm-up: first requests pay for imports and JIT-less Python warm paths.
    rt.block_on(async {
        for _ in 0..5 {
            let _ = net::send(client.get(&polling_url), timeout).await;
            let _ =
                engineio::websocket_connect(&target, "/socket.io", None, "/", None, timeout).await;
        }
    });

    let mut polling = Vec::new();
    let mut ws_connect = Vec::new();
    let mut both = Vec::new();
    let mut sticky = Vec::new();
    for _ in 0..ITERATIONS {
        rt.block_on(async {
            let t = Instant::now();
            let answer = net::send(client.get(&polling_url), timeout).await;
            let p = t.elapsed();
            assert!(matches!(answer, Ok(ref a) if a.status == 200), "{answer:?}");
            let t2 = Instant::now();
            let c =
                engineio::websocket_connect(&target, "/socket.io", None, "/", None, timeout).await;
            let w = t2.elapsed();
            assert!(c.is_ok(), "{c:?}");
            polling.push(p);
            ws_connect.push(w);
            both.push(p + w);
            let t3 = Instant::now();
            let s = engineio::sticky_rounds(&target, "/socket.io", None, 20, timeout).await;
            sticky.push(t3.elapsed());
            assert_eq!(s.ok, 20, "{s:?}");
        });
    }

    // The whole probe, as `wsdoctor ws URL` runs it (the take-back window after the CONNECT
    // ack, the upgrade and 20 sticky rounds, at the same time), with the default budget.
    let mut full = Vec::new();
    let mut windows = Vec::new();
    let mut sticky_in_probe = Vec::new();
    let default_budget = Duration::from_secs(3);
    let opts = WsProbeOptions {
        target: target.clone(),
        auth: None,
        origin: None,
        rounds: 20,
        namespace: "/".into(),
        hold: None,
        timeout: default_budget,
    };
    for _ in 0..10 {
        let t = Instant::now();
        let obs = rt.block_on(engineio::probe(&opts));
        full.push(t.elapsed());
        let c = obs.connect.as_ref().expect("CONNECT ran");
        assert!(c.answer.is_some(), "{c:?}");
        windows.push(engineio::take_back_window(
            Duration::from_millis(c.elapsed_ms),
            default_budget,
        ));
        let s = obs.sticky.as_ref().expect("sticky ran");
        assert_eq!(s.ok, 20, "{s:?}");
        sticky_in_probe.push(Duration::from_millis(s.elapsed_ms));
    }

    // A server whose connect handler never answers (Open WebUI waiting for its Redis
    // manager): the probe must end at its budget, not at a multiple of it.
    let hung = ws_support::SioServer::start(1, &["--connect", "hangs"]).expect("hung server");
    let hung_target = Target::parse(&hung.url(), None).expect("target");
    let mut unanswered = Vec::new();
    for _ in 0..5 {
        let opts = WsProbeOptions {
            target: hung_target.clone(),
            ..opts.clone()
        };
        let t = Instant::now();
        let obs = rt.block_on(engineio::probe(&opts));
        unanswered.push(t.elapsed());
        assert!(
            obs.connect.as_ref().is_some_and(|c| c.answer.is_none()),
            "the CONNECT stays unanswered"
        );
        assert_eq!(obs.sticky.as_ref().map(|s| s.ok), Some(20));
    }

    println!(
        "ws probe benchmark against python-socketio 1 worker on 127.0.0.1 ({ITERATIONS} runs, medians)"
    );
    println!(
        "  polling handshake (GET ?EIO=4&transport=polling)      {}",
        ms(median(polling))
    );
    println!(
        "  websocket upgrade + open + CONNECT → 40{{sid}}         {}",
        ms(median(ws_connect))
    );
    println!(
        "  handshake + connect (the two above)        target ≤ 20 ms: {}",
        ms(median(both.clone()))
    );
    println!(
        "  20 sticky rounds (60 requests, new TCP each) target ≤ 300 ms: {}",
        ms(median(sticky))
    );
    let handshake = median(both);
    let window = median(windows);
    let sticky_rounds = median(sticky_in_probe);
    let bound = (handshake + window.max(sticky_rounds)).mul_f64(1.2);
    let full = median(full);
    println!(
        "  full probe, wsdoctor ws URL (10 runs)                  {}",
        ms(full)
    );
    println!(
        "    take-back window {} , sticky rounds inside the probe {}",
        ms(window),
        ms(sticky_rounds)
    );
    println!(
        "    target ≤ 1.2 × (handshake + max(window, sticky)) = {}: {}",
        ms(bound),
        if full <= bound { "met" } else { "NOT met" }
    );
    let unanswered = median(unanswered);
    let limit = default_budget + Duration::from_millis(500);
    println!(
        "  full probe, CONNECT never answered, --timeout 3s (5 runs) target ≤ {}: {} ({})",
        ms(limit),
        ms(unanswered),
        if unanswered <= limit {
            "met"
        } else {
            "NOT met"
        }
    );
}
