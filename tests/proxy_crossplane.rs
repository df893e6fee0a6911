//! wsdoctor's nginx parser against crossplane (NGINX Inc.'s parser, PyPI `crossplane`,
//! pinned in tests/servers/requirements.txt): every nginx file of the proxy corpus is parsed
//! by both, and the directive trees (names, arguments, line numbers, nesting) must agree.
//! Files crossplane refuses must be refused by wsdoctor too.
//!
//! crossplane is called as `crossplane.parse(file, single=True, check_ctx=False)`: one file
//! (the conf.d files are fragments that nginx includes inside `http {}`, so the context check
//! would refuse them out of place), its argument checks on (they report a simple directive
//! followed by `{`, as nginx does).

use std::path::PathBuf;
use std::process::Command;

use serde_json::{Value, json};
use wsdoctor::config::proxy::nginx::parse::{Directive, parse};

fn corpus() -> PathBuf {
    PathBuf::from(
        std::env::var("WSDOCTOR_CORPORA").unwrap_or_else(|_| "/work/shared/corpora".into()),
    )
    .join("proxies")
}

fn python() -> Option<PathBuf> {
    let py = PathBuf::from(
        std::env::var("WSDOCTOR_PYTHON")
            .unwrap_or_else(|_| "/work/main/target/test-venv/bin/python".into()),
    );
    let ok = Command::new(&py)
        .args(["-c", "import crossplane"])
        .status()
        .is_ok_and(|s| s.success());
    ok.then_some(py)
}

fn tree(ds: &[Directive]) -> Value {
    Value::Array(
        ds.iter()
            .map(|d| {
                let mut v = json!({"directive": d.name, "line": d.line, "args": d.args});
                if let Some(b) = &d.block {
                    v["block"] = tree(b);
                }
                v
            })
            .collect(),
    )
}

/// crossplane's tree with only the fields compared.
fn strip(v: &Value) -> Value {
    Value::Array(
        v.as_array()
            .into_iter()
            .flatten()
            .map(|d| {
                let mut o =
                    json!({"directive": d["directive"], "line": d["line"], "args": d["args"]});
                if let Some(b) = d.get("block") {
                    o["block"] = strip(b);
                }
                o
            })
            .collect(),
    )
}

fn is_nginx(name: &str) -> bool {
    name.ends_with(".conf") && !name.contains("httpd") || name.ends_with(".conf.template")
}

#[test]
fn every_corpus_nginx_file_parses_as_crossplane_parses_it() {
    let Some(py) = python() else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "crossplane is missing in CI (tests/servers/requirements.txt)"
        );
        eprintln!(
            "SKIPPED every_corpus_nginx_file_parses_as_crossplane_parses_it: crossplane not installed (pip install -r tests/servers/requirements.txt)"
        );
        return;
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus())
        .expect("the proxy corpus")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| is_nginx(&p.file_name().unwrap().to_string_lossy()))
        .collect();
    files.sort();
    assert!(files.len() >= 12, "{files:?}");
    let (mut agreed, mut refused) = (0, 0);
    for f in &files {
        let out = Command::new(&py)
            .args([
                "-c",
                "import crossplane, json, sys; print(json.dumps(crossplane.parse(sys.argv[1], single=True, check_ctx=False)))",
            ])
            .arg(f)
            .output()
            .unwrap();
        let cp: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "crossplane on {}: {e} {}",
                f.display(),
                String::from_utf8_lossy(&out.stderr)
            )
        });
        let text = std::fs::read_to_string(f).unwrap();
        let (ours, errors) = parse(&text);
        let config = &cp["config"][0];
        if cp["status"] == "failed" {
            assert!(
                !errors.is_empty(),
                "{}: crossplane refuses it ({}) but wsdoctor does not",
                f.display(),
                config["errors"]
            );
            refused += 1;
            continue;
        }
        assert!(errors.is_empty(), "{}: {errors:?}", f.display());
        assert_eq!(
            tree(&ours),
            strip(&config["parsed"]),
            "{}: the trees differ",
            f.display()
        );
        agreed += 1;
    }
    eprintln!("crossplane: {agreed} trees agree, {refused} files refused by both");
    assert!(agreed >= 10);
}
