//! `wsdoctor completions SHELL` and `wsdoctor man`: generated from the clap definition
//! ([`crate::cli::Cli`]), so they never drift from the real options. Written to stdout; a
//! closed pipe (`wsdoctor man | head`) is not an error.

use std::io::Write;

use clap::CommandFactory;

use crate::cli::Cli;
use crate::commands::write_stdout;

pub fn completions(shell: clap_complete::Shell) -> u8 {
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "wsdoctor", &mut script);
    write_stdout(&String::from_utf8_lossy(&script));
    0
}

pub fn man() -> u8 {
    let page = clap_mangen::Man::new(Cli::command());
    let mut roff = Vec::new();
    if let Err(e) = page.render(&mut roff) {
        let _ = writeln!(std::io::stderr(), "error: cannot render the man page: {e}");
        return 2;
    }
    write_stdout(&String::from_utf8_lossy(&roff));
    0
}
