//! One file per command: its options (clap `Args`) and the function that gathers facts,
//! runs the checks and returns a [`Report`]. Rendering and exit codes are handled here, once.

pub mod checks;
pub mod completions;
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

use crate::cli::{Cli, ColorChoice, Command, DEFAULT_TIMEOUT, Format, GlobalOpts};
use crate::redact;
use crate::report::{Report, Suppressions};
use crate::settings::{self, Settings};

/// What every command may need from the global options.
#[derive(Debug, Clone)]
pub struct RunContext {
    /// Deadline of each network probe.
    pub timeout: Duration,
    pub strict: bool,
    pub show_secrets: bool,
    /// `--ignore` ids.
    pub ignore: Vec<String>,
    /// `--quiet`: text and Markdown show warnings and failures only.
    pub quiet: bool,
}

impl RunContext {
    /// The global options over the config file's settings (the command line wins).
    pub fn from_global(g: &GlobalOpts, file: &Settings) -> Self {
        RunContext {
            timeout: g.timeout.or(file.timeout).unwrap_or(DEFAULT_TIMEOUT),
            strict: g.strict || file.strict,
            show_secrets: g.show_secrets,
            ignore: g.ignore.clone(),
            quiet: g.quiet,
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
    // Commands that read no project and need no settings.
    match &cli.command {
        Command::Checks => return checks::run(&cli.global),
        Command::Explain { id } => return explain::run(id, &cli.global),
        Command::Completions { shell } => return completions::completions(*shell),
        Command::Man => return completions::man(),
        _ => {}
    }
    let file = match settings::load(&settings_start(&cli.command)) {
        Ok(file) => file,
        Err(e) => {
            return fail(
                &e,
                &RunContext::from_global(&cli.global, &Settings::default()),
            );
        }
    };
    let ctx = RunContext::from_global(&cli.global, &file);
    if let Some(e) = unknown_ignore(&ctx.ignore) {
        return fail(&e, &ctx);
    }
    let outputs = match plan_outputs(&cli.global) {
        Ok(o) => o,
        Err(e) => return fail(&e, &ctx),
    };
    let command = with_settings(cli.command, &file);
    let result = match &command {
        Command::Lint(args) => lint::run(args, &ctx),
        Command::Redis(args) => redis::run(args, &ctx),
        Command::Ws(args) => ws::run(args, &ctx),
        Command::Docker(args) => docker::run(args, &ctx),
        Command::Diagnose(args) => diagnose::run(args, &ctx),
        Command::Checks | Command::Explain { .. } | Command::Completions { .. } | Command::Man => {
            unreachable!("answered above")
        }
    };
    match result {
        Ok(mut report) => {
            report.apply_settings(&file.ignores, &file.severity);
            if !ctx.show_secrets {
                report.redact();
            }
            if let Err(e) = write_outputs(&report, &outputs, &ctx) {
                return fail(&e, &ctx);
            }
            report.exit_code()
        }
        Err(e) => fail(&e, &ctx),
    }
}

/// Where the config file is looked for: the command's project directory, else the current
/// directory.
fn settings_start(command: &Command) -> PathBuf {
    let project = match command {
        Command::Lint(a) => a.project.project_dir.clone(),
        Command::Redis(a) => a.project.project_dir.clone(),
        Command::Docker(a) => a.project.project_dir.clone(),
        Command::Diagnose(a) => a.project.project_dir.clone(),
        _ => None,
    };
    project.unwrap_or_else(|| PathBuf::from("."))
}

/// The command with the config file's values where the command line gave none.
fn with_settings(mut command: Command, file: &Settings) -> Command {
    let fill = |slot: &mut Option<String>, value: &Option<String>| {
        if slot.is_none() {
            slot.clone_from(value);
        }
    };
    match &mut command {
        Command::Lint(a) => fill(&mut a.project.app, &file.app),
        Command::Redis(a) => fill(&mut a.project.app, &file.app),
        Command::Docker(a) => fill(&mut a.project.app, &file.app),
        Command::Diagnose(a) => {
            fill(&mut a.project.app, &file.app);
            fill(&mut a.url, &file.url);
            fill(&mut a.path, &file.path);
            fill(&mut a.origin, &file.origin);
        }
        _ => {}
    }
    command
}

/// `--ignore` of an id that is not a check: a usage error naming the nearest id.
fn unknown_ignore(ids: &[String]) -> Option<CliError> {
    ids.iter().find_map(|id| {
        settings::known_id(id)
            .err()
            .map(|m| CliError::Usage(format!("--ignore {id}: {m}")))
    })
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
    let text = crate::report::text::TextOptions {
        color,
        width: None,
        quiet: false,
    };
    render_with(report, format, &text)
}

/// Renders the report in one format; text and Markdown follow `text` (width, --quiet).
fn render_with(report: &Report, format: Format, text: &crate::report::text::TextOptions) -> String {
    match format {
        Format::Text => crate::report::text::render_with(report, text),
        Format::Json => crate::report::json::render(report),
        Format::Markdown if text.quiet => crate::report::markdown::render_quiet(report),
        Format::Markdown => crate::report::markdown::render(report),
        Format::Sarif => crate::report::sarif::render(report),
        Format::Junit => crate::report::junit::render(report),
        Format::Github => crate::report::github::render(report),
        Format::Gitlab => crate::report::gitlab::render(report),
        Format::Concise => crate::report::concise::render(report),
    }
}

fn write_outputs(report: &Report, plan: &OutputPlan, ctx: &RunContext) -> Result<(), CliError> {
    for (format, output) in plan {
        match output {
            Some(path) => {
                let text = crate::report::text::TextOptions {
                    color: false,
                    width: Some(text_width(false)),
                    quiet: ctx.quiet,
                };
                let body = render_with(report, *format, &text);
                std::fs::write(path, body).map_err(|e| {
                    CliError::input(path.display().to_string(), format!("cannot write: {e}"))
                })?;
            }
            None => {
                let color = *format == Format::Text && stdout_wants_color();
                let text = crate::report::text::TextOptions {
                    color,
                    width: Some(text_width(true)),
                    quiet: ctx.quiet,
                };
                let body = render_with(report, *format, &text);
                write_stdout(&body);
            }
        }
    }
    Ok(())
}

/// The width text reports wrap to: COLUMNS when set, else the terminal's width when stdout
/// is one (and the report goes there), else 80.
fn text_width(to_stdout: bool) -> usize {
    if let Some(columns) = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|c| *c > 0)
    {
        return columns;
    }
    if to_stdout
        && let Some((terminal_size::Width(w), _)) =
            terminal_size::terminal_size_of(std::io::stdout())
        && w > 0
    {
        return usize::from(w);
    }
    80
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
