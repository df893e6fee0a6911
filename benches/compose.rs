//! Time to load the compose corpus (every YAML under ../shared/corpora/compose) and one
//! typical project, and the process's peak memory. `cargo bench --bench compose`.

#[path = "../tests/compose_support/mod.rs"]
mod compose_support;

use std::time::{Duration, Instant};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// CPU time this thread has used (Linux schedstat, ns): steadier than wall time on a
/// machine shared with other jobs.
fn cpu_time() -> Duration {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .map(Duration::from_nanos)
        .unwrap_or_default()
}

/// Peak resident memory (VmHWM) of this process, in KiB (Linux).
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() {
    let Some(corpora) = compose_support::corpora_dir() else {
        eprintln!("SKIPPED compose bench: no corpus at $WSDOCTOR_CORPORA or ../shared/corpora");
        return;
    };
    let files = compose_support::compose_files(&corpora);
    // The real-world files only (not compose-go's test documents, two of which are alias
    // bombs that are refused by design), then everything.
    let real: Vec<_> = files
        .iter()
        .filter(|p| !p.to_string_lossy().contains("compose-go-inline"))
        .cloned()
        .collect();
    for (label, set) in [("real-world files", &real), ("all files", &files)] {
        let mut runs = Vec::new();
        let mut cpu = Vec::new();
        let mut loaded = 0;
        for _ in 0..11 {
            let t = Instant::now();
            let c = cpu_time();
            loaded = 0;
            for f in set.iter() {
                if compose_support::load_file(f).is_ok() {
                    loaded += 1;
                }
            }
            runs.push(t.elapsed());
            cpu.push(cpu_time().saturating_sub(c));
        }
        println!(
            "compose load, {label}: {} files ({loaded} loaded), median {:.1} ms per pass (CPU {:.1} ms)",
            set.len(),
            median(runs).as_secs_f64() * 1e3,
            median(cpu).as_secs_f64() * 1e3
        );
    }
    let mut per_file: Vec<(Duration, String)> = files
        .iter()
        .map(|f| {
            let runs: Vec<Duration> = (0..5)
                .map(|_| {
                    let t = Instant::now();
                    let _ = compose_support::load_file(f);
                    t.elapsed()
                })
                .collect();
            (
                median(runs),
                f.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            )
        })
        .collect();
    per_file.sort();
    for (d, name) in per_file.iter().rev().take(5) {
        println!("  slowest: {name} {:.2} ms", d.as_secs_f64() * 1e3);
    }
    let typical = corpora.join("compose/open-webui__docker-compose.yaml");
    if typical.is_file() {
        let runs: Vec<Duration> = (0..201)
            .map(|_| {
                let t = Instant::now();
                let _ = compose_support::load_file(&typical);
                t.elapsed()
            })
            .collect();
        println!(
            "compose load, open-webui docker-compose.yaml: median {:.3} ms",
            median(runs).as_secs_f64() * 1e3
        );
    }
    if let Some(kib) = peak_rss_kib() {
        println!("peak RSS: {:.1} MiB", kib as f64 / 1024.0);
    }
}
