//! `cargo bench --bench proxy`: reading and checking the whole proxy corpus
//! (`$WSDOCTOR_CORPORA/proxies`, default ../shared/corpora) in-process — every file read as
//! `--proxy-config` would read it, then every `proxy.*` check run on it with the Open WebUI
//! profile's path. Prints the median of 50 runs; target ≤ 50 ms. Asserts nothing.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use wsdoctor::checks::config::Facts;
use wsdoctor::config::Deployment;
use wsdoctor::config::proxy::ProxySource;
use wsdoctor::config::proxy::discover::{kind_of_file, read_file};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let corpora = std::env::var("WSDOCTOR_CORPORA")
        .map(PathBuf::from)
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpora"));
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpora.join("proxies"))
        .expect("the proxy corpus")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    files.sort();
    let display = |p: &Path| p.display().to_string();
    let mut times = Vec::new();
    let mut results = 0;
    for _ in 0..50 {
        let t = Instant::now();
        let mut deployment = Deployment::default();
        for f in &files {
            let text = std::fs::read_to_string(f).unwrap_or_default();
            let kind = kind_of_file(f, &text);
            if let Some(c) = read_file(kind, f, &display(f), ProxySource::Flag, &display) {
                deployment.proxies.push(c);
            }
        }
        let facts = Facts::with_app(&deployment, None, Some("open-webui"));
        results = wsdoctor::checks::proxy::run(&facts).len();
        times.push(t.elapsed());
    }
    println!(
        "proxy corpus: {} files read and checked ({results} results): median {:.2} ms (target ≤ 50 ms)",
        files.len(),
        median(times).as_secs_f64() * 1000.0
    );
}
