//! Every input kept in `tests/fuzz_corpus/<target>/` (inputs that found a bug, and the
//! hostile shapes each parser must survive) runs through the same harness as the cargo-fuzz
//! target of that name (`fuzz/harness.rs`): no panic, and a bounded time per input (a guard
//! against a hang coming back, not a benchmark).

#[path = "../fuzz/harness.rs"]
mod harness;

use std::path::Path;
use std::time::{Duration, Instant};

/// Far above what any input takes (milliseconds, in a debug build); only a hang trips it.
const PER_INPUT_GUARD: Duration = Duration::from_secs(10);

#[test]
fn every_kept_fuzz_input_runs_clean() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz_corpus");
    let scratch = tempfile::tempdir().expect("scratch dir");
    let mut ran = 0;
    for target in harness::TARGETS {
        let dir = root.join(target);
        let mut inputs: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_file() && p.file_name().is_some_and(|n| n != "README.md"))
            .collect();
        inputs.sort();
        assert!(!inputs.is_empty(), "no inputs kept for {target}");
        for input in inputs {
            let data = std::fs::read(&input).expect("read input");
            let started = Instant::now();
            let outcome = std::panic::catch_unwind(|| harness::run(target, &data, scratch.path()));
            assert!(outcome.is_ok(), "{target}: {} panicked", input.display());
            let took = started.elapsed();
            assert!(
                took < PER_INPUT_GUARD,
                "{target}: {} took {took:?}",
                input.display()
            );
            ran += 1;
        }
    }
    eprintln!("{ran} kept fuzz inputs ran clean");
}
