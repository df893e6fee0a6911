//! Parse speed of the .env parser: every env file of the corpus, and large synthetic files.
//! `cargo bench --bench dotenv` prints the median of several runs (no timing is asserted in
//! tests; see PREAMBLE). The corpus is `$WSDOCTOR_CORPORA` or `../shared/corpora`.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use wsdoctor::config::dotenv::parse;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// The median and the minimum of `runs` timed calls (the minimum is the least disturbed by
/// other load on the machine).
fn time<F: FnMut()>(runs: usize, mut f: F) -> Timing {
    f(); // warm-up
    let samples: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    let min = samples.iter().min().copied().unwrap_or_default();
    Timing {
        median: median(samples),
        min,
    }
}

struct Timing {
    median: Duration,
    min: Duration,
}

impl std::fmt::Display for Timing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "median {:>10.1?}  (min {:.1?})", self.median, self.min)
    }
}

/// Peak resident memory of this process so far (Linux), in MiB.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn corpus_env_files() -> Vec<(String, String)> {
    let root = std::env::var_os("WSDOCTOR_CORPORA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpora"));
    let mut files = Vec::new();
    for dir in ["examples", "compose-testdata", "compose-go-fixtures"] {
        let Ok(entries) = std::fs::read_dir(root.join("dotenv").join(dir)) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.ends_with(".json") || name.ends_with(".format") {
                continue;
            }
            if let Ok(text) = std::fs::read_to_string(entry.path()) {
                files.push((name, text));
            }
        }
    }
    files
}

fn main() {
    let lookup = |k: &str| (k == "HOME").then(|| "/root".to_string());

    let seed = "# Open WebUI\nREDIS_URL=redis://default:mypassword@redis:6379\nWEBSOCKET_MANAGER=redis\nENABLE_WEBSOCKET_SUPPORT=true\nWEBSOCKET_REDIS_URL=${REDIS_URL}\nUVICORN_WORKERS=4\n";
    let d = time(2000, || {
        std::hint::black_box(parse(".env", seed, &lookup));
    });
    println!("seed .env (6 lines):            {}", d);

    let corpus = corpus_env_files();
    if corpus.is_empty() {
        println!("corpus env files: SKIPPED (corpus not found)");
    } else {
        let bytes: usize = corpus.iter().map(|(_, t)| t.len()).sum();
        let d = time(200, || {
            for (name, text) in &corpus {
                std::hint::black_box(parse(name, text, &lookup));
            }
        });
        println!(
            "corpus ({} files, {} KiB):      {}",
            corpus.len(),
            bytes / 1024,
            d
        );
    }

    // Realistic lines with interpolation and quotes, at three sizes (linear growth expected).
    for lines in [2_500, 5_000, 10_000] {
        let big: String = (0..lines)
            .map(|i| match i % 4 {
                0 => format!("KEY_{i}=plain value {i} # comment\n"),
                1 => format!("export URL_{i}=\"redis://${{HOST_{i}:-redis}}:6379/{i}\"\n"),
                2 => format!("SINGLE_{i}='it\\'s ${{NOT}} expanded'\n"),
                _ => format!("REF_{i}=${{KEY_{}}}-${{HOME}}\n", i - 3),
            })
            .collect();
        let d = time(20, || {
            std::hint::black_box(parse(".env", &big, &lookup));
        });
        println!(
            "synthetic ({:>4} KiB, {:>5} lines): {}",
            big.len() / 1024,
            lines,
            d
        );
    }

    // Hostile: one 8 MiB line of quoted statements; deeply nested defaults.
    let one_line = "A=\"x\"".repeat(8 * 1024 * 1024 / 5);
    let d = time(5, || {
        std::hint::black_box(parse(".env", &one_line, &lookup));
    });
    println!("one 8 MiB line (stops at 10k entries): {}", d);
    // The largest file `read` accepts, filled with long values full of references.
    let value = "${HOME}/x:${UNSET:-default} ".repeat(36);
    let ten_mib: String = (0..9_500).map(|i| format!("K{i}=\"{value}\"\n")).collect();
    let d = time(5, || {
        std::hint::black_box(parse(".env", &ten_mib, &lookup));
    });
    println!(
        "{:.1} MiB, 9.5k long values:    {}",
        ten_mib.len() as f64 / 1048576.0,
        d
    );
    let nested = format!("A={}x{}\n", "${B:-".repeat(200_000), "}".repeat(200_000));
    let d = time(5, || {
        std::hint::black_box(parse(".env", &nested, &lookup));
    });
    println!("200k nested defaults (1.2 MiB): {}", d);

    if let Some(mib) = peak_rss_mib() {
        println!("peak RSS of the whole run:      {mib:.1} MiB");
    }
}
