//! `wsdoctor checks`: the catalogue, one line a rule; `--format json` (an array of rules) and
//! `--format markdown` (the page docs/checks.md is) as well, to stdout or `-o FILE`.

use crate::catalogue::{self, Rule};
use crate::cli::{Format, GlobalOpts};
use crate::commands::explain;

pub fn run(global: &GlobalOpts) -> u8 {
    let rules = catalogue::all();
    let body = match global.formats.first().copied().unwrap_or(Format::Text) {
        Format::Text => table(&rules),
        Format::Json => {
            let entries: Vec<explain::RuleDoc<'_>> =
                rules.iter().map(|r| explain::RuleDoc::of(r)).collect();
            let mut s = serde_json::to_string_pretty(&entries).unwrap_or_default();
            s.push('\n');
            s
        }
        Format::Markdown => explain::catalogue_markdown(),
        other => {
            explain::fallback_note("checks", other);
            table(&rules)
        }
    };
    explain::emit(global, &body)
}

fn table(rules: &[&Rule]) -> String {
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
    out
}
