//! `cargo bench --bench lint`: how fast `wsdoctor lint` is and how much memory it takes.
//!
//! Prints medians; asserts nothing (speed is measured, never asserted in tests).
//! - the seed fixture through the release binary (a fresh process per run: what a user and
//!   CI pay), wall time and peak RSS;
//! - the same deployment loaded and checked in-process (the work itself);
//! - every compose file of ../shared/corpora loaded and checked in-process.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// Peak resident set size of all waited-for children, in KiB (Linux reports KiB).
fn children_peak_rss_kib() -> i64 {
    // SAFETY: getrusage only writes into the struct we hand it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
    usage.ru_maxrss
}

fn load_and_check(dir: &Path, file: Option<&Path>) -> usize {
    let opts = wsdoctor::config::compose::LoadOptions {
        project_dir: dir.to_path_buf(),
        files: file.map(|f| vec![f.to_path_buf()]).unwrap_or_default(),
        env_file: None,
        process_env: Default::default(),
    };
    match wsdoctor::config::compose::load(&opts) {
        Ok(d) => wsdoctor::checks::config::run(&d, None).len(),
        Err(_) => 0,
    }
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let seed = root.join("fixtures/seed-wrong-host");
    let bin = env!("CARGO_BIN_EXE_wsdoctor");

    // 1. The binary on the seed fixture.
    let mut wall = Vec::new();
    for _ in 0..30 {
        let t = Instant::now();
        let out = Command::new(bin)
            .args(["lint", "--format", "json", "--project-dir"])
            .arg(&seed)
            .output()
            .expect("run wsdoctor");
        wall.push(t.elapsed());
        assert!(
            out.status.code() == Some(1),
            "the seed fixture fails one check"
        );
    }
    println!(
        "lint seed fixture, binary (fresh process):  median {}  (30 runs), peak RSS {:.1} MiB",
        ms(median(wall)),
        children_peak_rss_kib() as f64 / 1024.0
    );

    // 2. In-process: load + check the seed fixture.
    let mut t_in = Vec::new();
    for _ in 0..200 {
        let t = Instant::now();
        std::hint::black_box(load_and_check(&seed, None));
        t_in.push(t.elapsed());
    }
    println!(
        "lint seed fixture, in-process load+check: median {}  (200 runs)",
        ms(median(t_in))
    );

    // 3. The corpus, in-process.
    let corpus = std::env::var_os("WSDOCTOR_CORPORA")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("../shared/corpora"));
    let dir = corpus.join("compose");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        println!(
            "corpus: not found at {} (set WSDOCTOR_CORPORA)",
            dir.display()
        );
        return;
    };
    let files: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
        .collect();
    let mut t_corpus = Vec::new();
    let mut results = 0;
    for _ in 0..7 {
        let t = Instant::now();
        results = files
            .iter()
            .map(|f| load_and_check(&dir, Some(f)))
            .sum::<usize>();
        t_corpus.push(t.elapsed());
    }
    println!(
        "lint corpus ({} files, {} results), in-process: median {}  (7 runs), {:.3} ms per file",
        files.len(),
        results,
        ms(median(t_corpus.clone())),
        median(t_corpus).as_secs_f64() * 1000.0 / files.len() as f64
    );
}
