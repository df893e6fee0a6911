//! `wsdoctor checks`: the catalogue, one line a rule (or JSON with `--format json`).

use crate::catalogue;
use crate::cli::{Format, GlobalOpts};
use crate::commands::write_stdout;

pub fn run(global: &GlobalOpts) -> u8 {
    let rules = catalogue::all();
    if global.formats.first() == Some(&Format::Json) {
        let body = serde_json::to_string_pretty(&rules).unwrap_or_default();
        write_stdout(&format!("{body}\n"));
        return 0;
    }
    let width = rules.iter().map(|r| r.id.len()).max().unwrap_or(0);
    let mut out = String::new();
    for r in rules {
        out.push_str(&format!(
            "{:<width$}  {:<7}  {}\n",
            r.id,
            r.severity.as_str(),
            r.title
        ));
    }
    write_stdout(&out);
    0
}
