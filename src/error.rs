//! The error that stops a run (exit 2): a usage error, or an input that cannot be read.
//! It lives at the bottom of the module tree so that `config` (which reads the files) and
//! `commands` (which print it) share it without `config` importing `commands`.

/// Why a run could not produce a report: exit code 2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CliError {
    /// The command line is wrong.
    Usage(String),
    /// A file cannot be read or parsed. `line`/`column` are 1-based where known.
    Input {
        file: String,
        line: Option<u32>,
        column: Option<u32>,
        message: String,
    },
}

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CliError::Usage(m) => write!(f, "{m}"),
            CliError::Input {
                file,
                line,
                column,
                message,
            } => {
                write!(f, "{file}")?;
                if let Some(l) = line {
                    write!(f, ":{l}")?;
                    if let Some(c) = column {
                        write!(f, ":{c}")?;
                    }
                }
                write!(f, ": {message}")
            }
        }
    }
}

impl CliError {
    pub fn input(file: impl Into<String>, message: impl Into<String>) -> Self {
        CliError::Input {
            file: file.into(),
            line: None,
            column: None,
            message: message.into(),
        }
    }

    pub fn input_at(
        file: impl Into<String>,
        line: u32,
        column: u32,
        message: impl Into<String>,
    ) -> Self {
        CliError::Input {
            file: file.into(),
            line: Some(line),
            column: Some(column),
            message: message.into(),
        }
    }
}
