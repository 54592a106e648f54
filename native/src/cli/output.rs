//! Errors, exit codes and JSON output shared by the subcommands.

use std::process::ExitCode;

use serde::Serialize;

/// A subcommand's failure, classified by exit code.
#[derive(Debug)]
pub(crate) enum CliError {
    /// Invalid input or failed verification: exit 1.
    Invalid {
        /// Stable machine-readable code.
        code: String,
        /// Human-readable reason.
        message: String,
    },
    /// Usage or I/O error: exit 2.
    Fatal(String),
}

impl CliError {
    pub(crate) fn invalid(code: impl Into<String>, message: impl std::fmt::Display) -> Self {
        Self::Invalid {
            code: code.into(),
            message: message.to_string(),
        }
    }

    pub(crate) fn fatal(message: impl std::fmt::Display) -> Self {
        Self::Fatal(message.to_string())
    }
}

impl From<torpeer_node::hsdir_fs::HsDirFsError> for CliError {
    fn from(e: torpeer_node::hsdir_fs::HsDirFsError) -> Self {
        match &e {
            torpeer_node::hsdir_fs::HsDirFsError::Invalid { source, .. } => {
                Self::invalid(source.code(), &e)
            }
            _ if e.is_invalid_content() => Self::invalid("hsdir_invalid", &e),
            _ => Self::fatal(e),
        }
    }
}

pub(crate) type CliResult = Result<(), CliError>;

/// Print `value` as one line of JSON on stdout.
pub(crate) fn print_json<T: Serialize>(value: &T) -> CliResult {
    let line = serde_json::to_string(value).map_err(CliError::fatal)?;
    println!("{line}");
    Ok(())
}

/// Map a result to the process exit code, printing the reason on stderr.
pub(crate) fn finish(result: CliResult) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(CliError::Invalid { code, message }) => {
            eprintln!("torpeer: invalid ({code}): {message}");
            ExitCode::from(1)
        }
        Err(CliError::Fatal(message)) => {
            eprintln!("torpeer: error: {message}");
            ExitCode::from(2)
        }
    }
}
