//! `cargo bench --bench kube`: how fast `wsdoctor lint` reads and judges Kubernetes manifests.
//!
//! Prints medians; asserts nothing (speed is measured, never asserted in tests).
//! - every file of ../shared/corpora/k8s as one deployment (`-f DIR`), in-process;
//! - each file alone, in-process (58 loads);
//! - the process's peak RSS afterwards.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use wsdoctor::config::{DeploymentSource, load_deployment};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn peak_rss_mib() -> f64 {
    // SAFETY: getrusage only writes into the struct we hand it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    usage.ru_maxrss as f64 / 1024.0
}

fn lint(files: Vec<PathBuf>) -> usize {
    let source = DeploymentSource {
        files,
        ..DeploymentSource::default()
    };
    match load_deployment(&source) {
        Ok(d) => wsdoctor::checks::config::run(&d, None).len(),
        Err(_) => 0,
    }
}

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let corpus = std::env::var_os("WSDOCTOR_CORPORA")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("../shared/corpora"));
    let dir = corpus.join("k8s");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        println!(
            "k8s corpus: not found at {} (set WSDOCTOR_CORPORA)",
            dir.display()
        );
        return;
    };
    let mut files: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
        .collect();
    files.sort();
    let bytes: u64 = files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();

    // The YAML parse alone, for comparison.
    let texts: Vec<String> = files
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap_or_default())
        .collect();
    let mut parse = Vec::new();
    for _ in 0..7 {
        let t = Instant::now();
        for text in &texts {
            std::hint::black_box(wsdoctor::config::yaml::parse_documents(text).ok());
        }
        parse.push(t.elapsed());
    }
    println!(
        "parse the k8s corpus' YAML only: median {}  (7 runs)",
        ms(median(parse))
    );

    let mut whole = Vec::new();
    let mut results = 0;
    for _ in 0..21 {
        let t = Instant::now();
        results = std::hint::black_box(lint(vec![dir.clone()]));
        whole.push(t.elapsed());
    }
    println!(
        "lint k8s corpus as one deployment (-f DIR: {} files, {:.0} KiB, {results} results), in-process: median {}  (21 runs)",
        files.len(),
        bytes as f64 / 1024.0,
        ms(median(whole))
    );

    let mut each = Vec::new();
    for _ in 0..7 {
        let t = Instant::now();
        let n: usize = files.iter().map(|f| lint(vec![f.clone()])).sum();
        std::hint::black_box(n);
        each.push(t.elapsed());
    }
    let m = median(each);
    println!(
        "lint k8s corpus file by file ({} loads), in-process: median {}  (7 runs), {:.3} ms per file",
        files.len(),
        ms(m),
        m.as_secs_f64() * 1000.0 / files.len() as f64
    );
    println!("peak RSS of this process: {:.1} MiB", peak_rss_mib());
}
