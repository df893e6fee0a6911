//! `cargo bench --bench redis`: prints medians.
//! 1. the probe's wall time against a healthy local redis-server (library call, and the
//!    whole binary as a user runs it);
//! 2. CLIENT LIST parsing + analysis of 10 000 synthetic clients (target ≤ 50 ms);
//! 3. a hung Redis (a real redis-server under `CLIENT PAUSE`, and a listener that never
//!    accepts): the whole binary's wall time against `--timeout` (target ≤ timeout + 0.3 s).

#[path = "../tests/redis_support/mod.rs"]
mod redis_support;

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use wsdoctor::checks::redis::clients::summarize;
use wsdoctor::probe::redis::parse::parse_client_list;
use wsdoctor::probe::redis::{ProbeOptions, probe, target};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn synthetic_client_list(n: usize) -> String {
    let mut s = String::with_capacity(n * 260);
    for i in 0..n {
        let source = format!("172.18.{}.{}", (i / 250) % 250, i % 250 + 1);
        let idle = (i * 37) % 7200;
        let sub = u32::from(i % 10 == 0);
        let _ = writeln!(
            s,
            "id={i} addr={source}:{} laddr=172.18.0.2:6379 fd={} name= age={} idle={idle} \
             flags={} db=0 sub={sub} psub=0 ssub=0 multi=-1 qbuf=0 qbuf-free=0 argv-mem=0 \
             multi-mem=0 rbs=1024 rbp=0 obl=0 oll=0 omem=0 tot-mem=1800 events=r cmd=get \
             user=default redir=-1 resp=2",
            40000 + i % 20000,
            i + 8,
            idle + 10,
            if sub == 1 { "P" } else { "N" },
        );
    }
    s
}

fn main() {
    // CLIENT LIST analysis.
    let text = synthetic_client_list(10_000);
    let mut times = Vec::new();
    let mut total = 0;
    for _ in 0..30 {
        let t = Instant::now();
        let clients = parse_client_list(&text);
        let summary = summarize(&clients, Some(1));
        times.push(t.elapsed());
        total = summary.total;
    }
    println!(
        "client-list: parse + summarize 10000 clients ({} KiB): median {:.2} ms (target <= 50 ms; {} counted)",
        text.len() / 1024,
        median(times).as_secs_f64() * 1000.0,
        total
    );

    // Probe wall time.
    if !redis_support::have(redis_support::REDIS_SERVER, "bench redis probe") {
        return;
    }
    let server =
        redis_support::RedisServer::start(&["--requirepass", "bench-pw", "--timeout", "300"]);
    let url = format!("redis://:bench-pw@127.0.0.1:{}/0", server.port);
    let t = target::parse_url(&url).expect("url");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    for samples in [20u32, 0] {
        let opts = ProbeOptions {
            latency_samples: samples,
            ..ProbeOptions::default()
        };
        let mut times = Vec::new();
        for _ in 0..30 {
            let started = Instant::now();
            let obs = rt.block_on(probe(&t, &opts));
            times.push(started.elapsed());
            assert!(obs.ready(), "probe failed");
        }
        println!(
            "probe (library, {samples} latency PINGs): median {:.2} ms over 30 runs",
            median(times).as_secs_f64() * 1000.0
        );
    }
    let mut times = Vec::new();
    for _ in 0..10 {
        let started = Instant::now();
        let run = redis_support::wsdoctor(&["redis", &url, "--format", "json"]);
        times.push(started.elapsed());
        assert!(run.code == 0 || run.code == 1, "{}", run.stderr);
    }
    println!(
        "probe (wsdoctor binary, process included): median {:.2} ms over 10 runs",
        median(times).as_secs_f64() * 1000.0
    );

    hung_servers();
}

/// `wsdoctor redis … --timeout T` against servers that accept and never answer: the run
/// costs the budget once, plus process start and exit.
fn hung_servers() {
    let paused =
        redis_support::RedisServer::start(&["--requirepass", "bench-pw", "--timeout", "300"]);
    // Paused once for every run below (a paused server delays redis-cli's own AUTH too, so
    // it cannot be renewed or lifted: the server is killed at the end).
    paused.cli(&["CLIENT", "PAUSE", "120000", "ALL"]);
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let silent_port = silent.local_addr().expect("addr").port();
    let cases = [
        (
            "paused redis-server, AUTH unanswered",
            format!("redis://:bench-pw@127.0.0.1:{}/0", paused.port),
        ),
        (
            "listener that never accepts, PING unanswered",
            format!("redis://127.0.0.1:{silent_port}/0"),
        ),
    ];
    for timeout_ms in [1000u64, 3000] {
        let budget = Duration::from_millis(timeout_ms);
        let timeout = format!("{timeout_ms}ms");
        for (what, url) in &cases {
            let mut times = Vec::new();
            for _ in 0..5 {
                let started = Instant::now();
                let run = redis_support::wsdoctor(&[
                    "redis",
                    url,
                    "--timeout",
                    &timeout,
                    "--format",
                    "json",
                ]);
                times.push(started.elapsed());
                assert_eq!(run.code, 1, "{}", run.stderr);
            }
            let m = median(times);
            println!(
                "hung redis ({what}), --timeout {timeout}: median {:.0} ms over 5 runs, \
                 overhead {:+.0} ms (target <= +300 ms)",
                m.as_secs_f64() * 1000.0,
                (m.as_secs_f64() - budget.as_secs_f64()) * 1000.0
            );
        }
    }
    drop(paused);
    drop(silent);
}
