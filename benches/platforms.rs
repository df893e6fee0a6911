//! `cargo bench --bench platforms`: issue 13's target, "lint of the whole k8s+helm+swarm corpus
//! ≤ 100 ms, ≤ 20 MiB".
//!
//! Prints medians and their ratio to the target; asserts nothing (speed is measured, never
//! asserted in tests).
//! - in-process, the runs the corpus tests make: every file of corpora/k8s alone and every
//!   upstream directory of them (tests/kube_corpus.rs), every helm values file and Flux
//!   HelmRelease as `--helm-values` (tests/helm_corpus.rs), both swarm stacks as `-f`; each
//!   load followed by what `lint` runs (config.* with kube.*, then aca.*);
//! - the release binary once per corpus set (the k8s directory, each values file, each stack),
//!   a fresh process each, with that process' peak RSS (wait4's rusage, per child).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use wsdoctor::config::{DeploymentSource, load_deployment};

const TARGET_MS: f64 = 100.0;
const TARGET_MIB: f64 = 20.0;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// What `wsdoctor lint` runs on a loaded deployment (src/commands/lint.rs).
fn lint(source: &DeploymentSource) -> usize {
    match load_deployment(source) {
        Ok(d) => {
            wsdoctor::checks::config::run(&d, None).len()
                + wsdoctor::checks::aca::run(&d, None, None).len()
        }
        Err(_) => 0,
    }
}

/// Writes the corpus files that `keep` accepts at their upstream paths under `root` (MANIFEST.json
/// names each one's repository and path), as the corpus tests do: a wrapper chart's values.yaml
/// meets its Chart.yaml again, a kustomization its resources.
fn rebuild(corpus: &Path, root: &Path, keep: impl Fn(&str) -> bool) -> Vec<PathBuf> {
    let manifest: Value = serde_json::from_str(
        &std::fs::read_to_string(corpus.join("MANIFEST.json")).expect("MANIFEST.json"),
    )
    .expect("MANIFEST.json is JSON");
    let mut files = Vec::new();
    for entry in manifest["files"].as_array().expect("files") {
        let file = entry["file"].as_str().unwrap_or_default();
        if !keep(file) {
            continue;
        }
        let dest = root.join(format!(
            "{}/{}",
            entry["repo"].as_str().unwrap_or_default(),
            entry["path"].as_str().unwrap_or_default()
        ));
        std::fs::create_dir_all(dest.parent().expect("parent")).expect("mkdir");
        std::fs::write(&dest, std::fs::read(corpus.join(file)).expect("read")).expect("write");
        files.push(dest);
    }
    files.sort();
    files
}

/// CPU time (user + system) this process has used: on a shared machine the wall time of a
/// run also counts the time other processes held the cores.
fn cpu_time() -> Duration {
    // SAFETY: getrusage only writes into the struct we hand it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// Runs the binary once; its wall time and its own peak RSS in MiB.
// The child is reaped by wait4 (which also returns its own rusage), not by std's wait.
#[allow(clippy::zombie_processes)]
fn binary(args: &[&std::ffi::OsStr]) -> (Duration, f64, Option<i32>) {
    let bin = env!("CARGO_BIN_EXE_wsdoctor");
    let t = Instant::now();
    let child = Command::new(bin)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("run wsdoctor");
    let mut status = 0;
    // SAFETY: wait4 only writes into the two values we hand it; the child is ours and reaped
    // here (std's Child is dropped without waiting).
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    let wall = t.elapsed();
    assert_eq!(pid, child.id() as i32, "wait4");
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    (wall, usage.ru_maxrss as f64 / 1024.0, code)
}

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let corpus = std::env::var_os("WSDOCTOR_CORPORA")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("../shared/corpora"));
    if !corpus.join("MANIFEST.json").is_file() {
        println!(
            "corpora: not found at {} (set WSDOCTOR_CORPORA)",
            corpus.display()
        );
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");

    // The k8s corpus: each file alone, then each upstream directory (tests/kube_corpus.rs).
    let k8s_files = rebuild(&corpus, &tmp.path().join("k8s"), |f| f.starts_with("k8s/"));
    let mut k8s_dirs: Vec<PathBuf> = k8s_files
        .iter()
        .filter_map(|f| f.parent().map(Path::to_path_buf))
        .collect();
    k8s_dirs.sort();
    k8s_dirs.dedup();
    let k8s: Vec<DeploymentSource> = k8s_files
        .iter()
        .chain(&k8s_dirs)
        .map(|p| DeploymentSource {
            files: vec![p.clone()],
            ..DeploymentSource::default()
        })
        .collect();

    // Helm: every values file and every k8s HelmRelease alone as --helm-values
    // (tests/helm_corpus.rs).
    let helm_files = rebuild(&corpus, &tmp.path().join("helm"), |f| {
        f.starts_with("helm/values/") || (f.starts_with("k8s/") && f.ends_with("helmrelease.yaml"))
    });
    let helm: Vec<DeploymentSource> = helm_files
        .iter()
        .map(|p| DeploymentSource {
            helm_values: vec![p.clone()],
            ..DeploymentSource::default()
        })
        .collect();

    // Swarm: both stack files, as `-f` in their directory (tests/lint_swarm.rs).
    let swarm_dir = corpus.join("swarm");
    let mut swarm_files: Vec<PathBuf> = std::fs::read_dir(&swarm_dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    swarm_files.sort();
    let swarm: Vec<DeploymentSource> = swarm_files
        .iter()
        .map(|p| DeploymentSource {
            project_dir: Some(swarm_dir.clone()),
            files: vec![p.clone()],
            ..DeploymentSource::default()
        })
        .collect();

    let bytes: u64 = k8s_files
        .iter()
        .chain(&helm_files)
        .chain(&swarm_files)
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();

    // In-process: each set, and the whole corpus in one pass.
    let sets: [(&str, &[DeploymentSource]); 3] =
        [("k8s", &k8s), ("helm", &helm), ("swarm", &swarm)];
    const RUNS: usize = 21;
    let mut per_set = vec![Vec::new(); sets.len()];
    let mut total = Vec::new();
    let mut total_cpu = Vec::new();
    let mut results = 0;
    for _ in 0..RUNS {
        let cpu = cpu_time();
        let whole = Instant::now();
        results = 0;
        for (i, (_, sources)) in sets.iter().enumerate() {
            let t = Instant::now();
            results += sources
                .iter()
                .map(|s| std::hint::black_box(lint(s)))
                .sum::<usize>();
            per_set[i].push(t.elapsed());
        }
        total.push(whole.elapsed());
        total_cpu.push(cpu_time() - cpu);
    }
    for ((name, sources), times) in sets.iter().zip(per_set) {
        println!(
            "in-process {name:<5} ({:>3} loads): median {:>7.2} ms  ({RUNS} runs)",
            sources.len(),
            ms(median(times))
        );
    }
    let total_ms = ms(median(total));
    let cpu_ms = ms(median(total_cpu));
    println!(
        "in-process whole corpus ({} loads, {} files, {:.0} KiB, {results} results): median {total_ms:.2} ms wall, {cpu_ms:.2} ms CPU  ({RUNS} runs), {:.2}× the {TARGET_MS} ms target (CPU: {:.2}×)",
        k8s.len() + helm.len() + swarm.len(),
        k8s_files.len() + helm_files.len() + swarm_files.len(),
        bytes as f64 / 1024.0,
        total_ms / TARGET_MS,
        cpu_ms / TARGET_MS
    );

    // The release binary: one fresh process per corpus set.
    let lint_args = |flag: &'static str, path: &Path| -> Vec<std::ffi::OsString> {
        vec![
            "lint".into(),
            "--format".into(),
            "json".into(),
            flag.into(),
            path.as_os_str().to_owned(),
        ]
    };
    let mut runs: Vec<(String, Vec<std::ffi::OsString>)> = vec![(
        "k8s: -f corpora/k8s (58 files, one deployment)".to_string(),
        lint_args("-f", &corpus.join("k8s")),
    )];
    for f in &helm_files {
        runs.push((
            format!("helm: --helm-values {}", f.display()),
            lint_args("--helm-values", f),
        ));
    }
    for f in &swarm_files {
        runs.push((format!("swarm: -f {}", f.display()), lint_args("-f", f)));
    }
    let mut peak: (f64, String) = (0.0, String::new());
    let mut wall_by_set: [(Duration, usize, f64); 3] = [(Duration::ZERO, 0, 0.0); 3];
    for (name, args) in &runs {
        let args: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
        let (wall, rss, code) = binary(&args);
        if !matches!(code, Some(0 | 1)) {
            println!("  {name}: exit {code:?} (expected 0 or 1)");
        }
        let set = if name.starts_with("k8s") {
            0
        } else if name.starts_with("helm") {
            1
        } else {
            2
        };
        wall_by_set[set].0 += wall;
        wall_by_set[set].1 += 1;
        wall_by_set[set].2 = wall_by_set[set].2.max(rss);
        if rss > peak.0 {
            peak = (rss, name.clone());
        }
    }
    for ((name, _), (wall, n, rss)) in sets.iter().zip(wall_by_set) {
        println!(
            "binary {name:<5} ({n:>2} processes): wall {:>7.2} ms in all, peak RSS {rss:.1} MiB",
            ms(wall)
        );
    }
    println!(
        "binary peak RSS over {} processes: {:.1} MiB ({}), {:.2}× the {TARGET_MIB} MiB target",
        runs.len(),
        peak.0,
        peak.1,
        peak.0 / TARGET_MIB
    );
}
