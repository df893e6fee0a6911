//! Every compose file of the shared corpus (real projects and compose-go's test documents)
//! goes through the loader: no panic, a clean result either way, and agreement with PyYAML on
//! which files are readable YAML, except where compose itself refuses what PyYAML accepts.

mod compose_support;

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

use compose_support::{compose_files, corpora_or_skip, load_file, yaml_verdicts};
use wsdoctor::commands::CliError;

/// Files PyYAML loads that compose (and so wsdoctor) refuses, and why.
const REFUSED_THOUGH_PYYAML_LOADS: &[(&str, &str)] = &[
    (
        "compose-go__reset_test__TestAliasBombPrevented__2.yaml",
        "alias bomb (9^9 nodes once expanded); compose-go: excessive aliasing",
    ),
    (
        "compose-go__reset_test__TestAliasNodePreservation__1.yaml",
        "alias bomb (9^8 mappings once expanded); compose-go: excessive aliasing",
    ),
    (
        "compose-go__loader_test__TestNonMappingObject__1.yaml",
        "`services` is a list; compose-go: services must be a mapping",
    ),
    (
        "compose-go__reset_test__TestResetCycle__6.yaml",
        "a merge key refers to its own anchor; compose-go: cycle detected",
    ),
];

/// Files whose outcome the corpus leaves open ("either": compose-go may accept or refuse).
const EITHER: &[(&str, &str)] = &[(
    "compose-go__reset_test__TestAliasBombPrevented__1.yaml",
    "a smaller alias fan-out; compose-go: must finish quickly, may refuse",
)];

fn name_of(path: &std::path::Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[test]
fn every_corpus_compose_file_loads_or_fails_cleanly() {
    let Some(corpora) = corpora_or_skip("every_corpus_compose_file_loads_or_fails_cleanly") else {
        return;
    };
    let verdicts = yaml_verdicts(&corpora);
    let files = compose_files(&corpora);
    assert!(
        files.len() >= 300,
        "expected the full corpus, found {} files",
        files.len()
    );

    let mut panics = Vec::new();
    let mut unexpected_errors = Vec::new();
    let mut unexpected_loads = Vec::new();
    let mut slowest = (Duration::ZERO, String::new());
    let mut outcomes: BTreeMap<&str, usize> = BTreeMap::new();
    let started = Instant::now();
    for path in &files {
        let name = name_of(path);
        let rel = path
            .strip_prefix(&corpora)
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default();
        let verdict = verdicts.get(&rel).map(String::as_str);
        let t = Instant::now();
        let result = catch_unwind(AssertUnwindSafe(|| load_file(path)));
        let took = t.elapsed();
        if took > slowest.0 {
            slowest = (took, name.clone());
        }
        let refused_ok = REFUSED_THOUGH_PYYAML_LOADS.iter().any(|(n, _)| *n == name);
        let either = EITHER.iter().any(|(n, _)| *n == name);
        // A file that does not parse is a `config.compose-syntax` finding (issue 12), not a
        // stop: count it as refused, as an error was before.
        let result = result.map(|r| {
            r.and_then(|d| {
                let unparsed = wsdoctor::config::compose::unparsed_files(&d);
                match d.structure.iter().find(|p| {
                    p.span
                        .as_ref()
                        .is_some_and(|s| unparsed.contains(&s.file.as_str()))
                }) {
                    Some(p) => Err(CliError::input(name.clone(), p.message.clone())),
                    None => Ok(d),
                }
            })
        });
        match result {
            Err(_) => panics.push(name),
            Ok(Ok(_)) => {
                *outcomes.entry("loaded").or_default() += 1;
                if verdict == Some("error") || refused_ok {
                    unexpected_loads.push(name);
                }
            }
            Ok(Err(e)) => {
                *outcomes.entry("refused").or_default() += 1;
                assert!(matches!(e, CliError::Input { .. }), "{name}: {e}");
                let pyyaml_ok = matches!(verdict, Some(v) if v.starts_with("ok"));
                if pyyaml_ok && !refused_ok && !either {
                    unexpected_errors.push(format!("{name}: {e}"));
                }
            }
        }
    }
    let total = started.elapsed();
    eprintln!(
        "compose corpus: {} files in {:.1} ms ({:?}); slowest {} in {:.1} ms",
        files.len(),
        total.as_secs_f64() * 1e3,
        outcomes,
        slowest.1,
        slowest.0.as_secs_f64() * 1e3
    );
    assert!(panics.is_empty(), "panicked on: {panics:?}");
    assert!(
        unexpected_errors.is_empty(),
        "PyYAML loads these but we refused them:\n{}",
        unexpected_errors.join("\n")
    );
    assert!(
        unexpected_loads.is_empty(),
        "these must be refused but loaded: {unexpected_loads:?}"
    );
}

/// Prints what the loader found in each real-world file (run with --ignored --nocapture).
#[test]
#[ignore]
fn print_corpus_findings() {
    let Some(corpora) = corpora_or_skip("print_corpus_findings") else {
        return;
    };
    for path in compose_files(&corpora) {
        let name = name_of(&path);
        match load_file(&path) {
            Ok(d) => {
                for s in &d.structure {
                    println!(
                        "{name}: STRUCTURE {:?} {}",
                        s.span.as_ref().map(|s| s.line),
                        s.message
                    );
                }
                println!(
                    "{name}: {} services, {} interpolation, {} missing env files",
                    d.services.len(),
                    d.interpolation.len(),
                    d.missing_env_files.len()
                );
            }
            Err(e) => println!("{name}: ERROR {e}"),
        }
    }
}

/// The real-world files in their upstream directory layout: `extends.file`, `include` and
/// `env_file` targets that the corpus holds are found and used, and nothing panics.
#[test]
fn corpus_in_its_upstream_layout_resolves_extends_and_env_files() {
    let Some(corpora) =
        corpora_or_skip("corpus_in_its_upstream_layout_resolves_extends_and_env_files")
    else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let files = compose_support::rebuild_trees(&corpora, tmp.path());
    assert!(files.len() >= 290, "{} compose files", files.len());
    let mut panics = Vec::new();
    let (mut loaded, mut env_files_read) = (0, 0);
    for (name, path) in &files {
        match catch_unwind(AssertUnwindSafe(|| load_file(path))) {
            Err(_) => panics.push(name.clone()),
            Ok(Ok(d)) => {
                loaded += 1;
                env_files_read += d.env_files.len();
            }
            Ok(Err(e)) => assert!(matches!(e, CliError::Input { .. }), "{name}: {e}"),
        }
    }
    eprintln!(
        "upstream layout: {loaded}/{} loaded, {env_files_read} env files read",
        files.len()
    );
    assert!(panics.is_empty(), "panicked on: {panics:?}");
    assert!(
        env_files_read >= 10,
        "only {env_files_read} env files found"
    );

    // compose-go's own fixture: the extended service's env_file is relative to its file.
    let path = tmp
        .path()
        .join("compose-spec/compose-go/loader/testdata/compose-test-extends.yaml");
    let d = load_file(&path).expect("compose-test-extends.yaml loads");
    let importer = d.service("importer").expect("importer");
    assert_eq!(
        importer.image.as_ref().map(|i| i.value.as_str()),
        Some("nginx")
    );
    assert_eq!(
        importer.container_name.as_ref().map(|c| c.value.as_str()),
        Some("imported")
    );
    assert_eq!(importer.env_files[0].value, "subdir/extra.env");
    assert!(d.missing_env_files.is_empty(), "{:?}", d.missing_env_files);
    assert!(d.structure.is_empty(), "{:?}", d.structure);
    assert_eq!(
        importer
            .image
            .as_ref()
            .and_then(|i| i.span.as_ref())
            .map(|s| s.file.as_str()),
        Some("subdir/compose-test-extends-imported.yaml")
    );
}

/// Real files cut at arbitrary points (unclosed quotes, half a mapping, a dangling anchor)
/// never panic: each cut either loads or is a clean input error.
#[test]
fn truncated_corpus_files_never_panic() {
    let Some(corpora) = corpora_or_skip("truncated_corpus_files_never_panic") else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let target = tmp.path().join("compose.yaml");
    let mut panics = Vec::new();
    let mut cuts = 0;
    for path in compose_files(&corpora)
        .iter()
        .filter(|p| !p.to_string_lossy().contains("compose-go-inline"))
    {
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        for fraction in [0.13, 0.37, 0.5, 0.71, 0.94] {
            let mut cut = (text.len() as f64 * fraction) as usize;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            std::fs::write(&target, &text[..cut]).expect("write");
            cuts += 1;
            if catch_unwind(AssertUnwindSafe(|| load_file(&target))).is_err() {
                panics.push(format!("{} cut at {cut}", name_of(path)));
            }
        }
    }
    assert!(cuts > 1000, "{cuts} cuts");
    assert!(panics.is_empty(), "panicked on: {panics:?}");
}
