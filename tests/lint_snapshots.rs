//! Snapshots of `wsdoctor lint` on the seed-bug fixture in every output format (insta): the
//! exact text a user sees, reviewed once and kept from drifting.

use assert_cmd::Command;

fn render(format: &str) -> String {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/seed-wrong-host");
    let out = Command::cargo_bin("wsdoctor")
        .unwrap()
        .current_dir(&dir)
        .args(["lint", "--color", "never", "--format", format])
        .env_remove("REDIS_PASSWORD")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    // Durations and the version change from run to run and release to release.
    let mut normalised = String::new();
    for line in text.lines() {
        let line = regex_lite_replace(line, "\"duration_ms\": ", "0");
        let line = line.replace(env!("CARGO_PKG_VERSION"), "[version]");
        // SARIF's originalUriBaseIds names the checkout, wherever it is.
        let line = line.replace(
            &format!("file://{}/", env!("CARGO_MANIFEST_DIR")),
            "file://[checkout]/",
        );
        let line = regex_lite_replace(&line, "` · ", "0");
        let line = match line.find(" time=\"") {
            Some(i) => {
                let rest = &line[i + 7..];
                let end = rest.find('"').unwrap_or(0);
                format!("{} time=\"0\"{}", &line[..i], &rest[end + 1..])
            }
            None => line,
        };
        normalised.push_str(&line);
        normalised.push('\n');
    }
    normalised
}

/// Replaces the number after `key` with `with`.
fn regex_lite_replace(line: &str, key: &str, with: &str) -> String {
    match line.find(key) {
        Some(i) => {
            let start = i + key.len();
            let end = line[start..]
                .find(|c: char| !c.is_ascii_digit())
                .map_or(line.len(), |e| start + e);
            format!("{}{with}{}", &line[..start], &line[end..])
        }
        None => line.to_string(),
    }
}

#[test]
fn seed_fixture_in_every_format() {
    for format in [
        "text", "json", "markdown", "sarif", "junit", "github", "gitlab", "concise",
    ] {
        insta::assert_snapshot!(format!("lint_seed_{format}"), render(format));
    }
}
