//! The junit renderer. OWNER: the renderers helper.

use crate::report::Report;

pub fn render(report: &Report) -> String {
    let _ = report;
    todo!("renderers helper: junit")
}
