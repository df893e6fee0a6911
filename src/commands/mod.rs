//! One file per command: its options (clap `Args`) and the function that gathers facts,
//! runs the checks and returns a [`Report`]. Rendering and exit codes are handled here, once.

pub mod checks;
pub mod diagnose;
pub mod docker;
pub mod expect;
pub mod explain;
pub mod lint;
pub mod redis;
pub mod ws;

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use crate::cli::{Cli, ColorChoice, Command, Format, GlobalOpts};
use crate::redact;
use crate::report::{Report, Suppressions};

/// What every command may need from the global options.
#[derive(Debug, Clone)]
pub struct RunContext {
    /// Deadline of each network probe.
    pub timeout: Duration,
    pub strict: bool,
    pub show_secrets: bool,
    /// `--ignore` ids.
    pub ignore: Vec<String>,
}

impl RunContext {
    pub fn from_global(g: &GlobalOpts) -> Self {
        RunContext {
            timeout: g.timeout,
            strict: g.strict,
            show_secrets: g.show_secrets,
            ignore: g.ignore.clone(),
        }
    }

    /// Suppressions from the command line only (probe commands read no files).
    pub fn cli_suppressions(&self) -> Suppressions {
        Suppressions {
            cli: self.ignore.clone(),
            inline: Vec::new(),
        }
    }
}

pub use crate::error::CliError;

/// A multi-threaded runtime for the probe commands. Two worker threads: the machines this
/// runs on are small and the work is I/O-bound.
pub fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| CliError::Usage(format!("cannot start the async runtime: {e}")))
}

/// Runs the parsed command line; returns the process exit code.
pub fn run(cli: Cli) -> u8 {
    let choice = match cli.global.color {
        ColorChoice::Auto => anstream::ColorChoice::Auto,
        ColorChoice::Always => anstream::ColorChoice::Always,
        ColorChoice::Never => anstream::ColorChoice::Never,
    };
    choice.write_global();
    let ctx = RunContext::from_global(&cli.global);
    let outputs = match plan_outputs(&cli.global) {
        Ok(o) => o,
        Err(e) => return fail(&e, &ctx),
    };
    let result = match &cli.command {
        Command::Lint(args) => lint::run(args, &ctx),
        Command::Redis(args) => redis::run(args, &ctx),
        Command::Ws(args) => ws::run(args, &ctx),
        Command::Docker(args) => docker::run(args, &ctx),
        Command::Diagnose(args) => diagnose::run(args, &ctx),
        Command::Checks => return checks::run(&cli.global),
        Command::Explain { id } => return explain::run(id, &cli.global),
    };
    match result {
        Ok(mut report) => {
            if !ctx.show_secrets {
                report.redact();
            }
            if let Err(e) = write_outputs(&report, &outputs) {
                return fail(&e, &ctx);
            }
            report.exit_code()
        }
        Err(e) => fail(&e, &ctx),
    }
}

/// Prints a run-stopping error (exit 2). URL passwords are masked here too: an error may
/// quote the URL the user typed.
fn fail(e: &CliError, ctx: &RunContext) -> u8 {
    let text = e.to_string();
    let text = if ctx.show_secrets {
        text
    } else {
        redact::mask_url_passwords(&text)
    };
    let mut err = anstream::stderr();
    let style = anstyle::Style::new()
        .bold()
        .fg_color(Some(anstyle::AnsiColor::Red.into()));
    let _ = writeln!(err, "{style}error{style:#}: {text}");
    2
}

/// Where each format goes: `None` is stdout.
type OutputPlan = Vec<(Format, Option<PathBuf>)>;

fn plan_outputs(g: &GlobalOpts) -> Result<OutputPlan, CliError> {
    let mut formats = g.formats.clone();
    if formats.is_empty() {
        formats.push(Format::Text);
    }
    if g.outputs.len() > formats.len() {
        // `-o r.json` alone: keep the one format (text by default) and write it to the file.
        if !(formats.len() == 1 && g.outputs.len() == 1) {
            return Err(CliError::Usage(format!(
                "{} --output given for {} --format: give one --format per --output",
                g.outputs.len(),
                formats.len()
            )));
        }
    }
    let plan: OutputPlan = formats
        .iter()
        .enumerate()
        .map(|(i, f)| (*f, g.outputs.get(i).cloned()))
        .collect();
    if plan.iter().filter(|(_, o)| o.is_none()).count() > 1 {
        return Err(CliError::Usage(
            "several --format go to stdout: give each but one an --output FILE".to_string(),
        ));
    }
    Ok(plan)
}

/// Renders the report in one format.
pub fn render(report: &Report, format: Format, color: bool) -> String {
    match format {
        Format::Text => crate::report::text::render(report, color),
        Format::Json => crate::report::json::render(report),
        Format::Markdown => crate::report::markdown::render(report),
        Format::Sarif => crate::report::sarif::render(report),
        Format::Junit => crate::report::junit::render(report),
        Format::Github => crate::report::github::render(report),
        Format::Gitlab => crate::report::gitlab::render(report),
        Format::Concise => crate::report::concise::render(report),
    }
}

fn write_outputs(report: &Report, plan: &OutputPlan) -> Result<(), CliError> {
    for (format, output) in plan {
        match output {
            Some(path) => {
                let body = render(report, *format, false);
                std::fs::write(path, body).map_err(|e| {
                    CliError::input(path.display().to_string(), format!("cannot write: {e}"))
                })?;
            }
            None => {
                let color = *format == Format::Text && stdout_wants_color();
                let body = render(report, *format, color);
                write_stdout(&body);
            }
        }
    }
    Ok(())
}

/// Whether anstream would keep colours on stdout (honours --color, NO_COLOR, CLICOLOR_FORCE,
/// TERM=dumb and whether stdout is a terminal).
fn stdout_wants_color() -> bool {
    let stream = anstream::AutoStream::auto(std::io::stdout());
    !matches!(stream.current_choice(), anstream::ColorChoice::Never)
}

/// Writes to stdout; a closed pipe (`wsdoctor checks | head`) is not an error.
pub fn write_stdout(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}
