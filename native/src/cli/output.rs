//! Errors, exit codes and JSON output shared by the subcommands.

use std::io::{self, Write};
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
    write_stdout_line(format_args!("{line}"));
    Ok(())
}

/// `println!` for the CLI: writes one line to stdout, and when the reader
/// has gone away (`torpeer … | head`) ends the process quietly with exit
/// code 0 instead of panicking as `println!` does — the reader asked for no
/// more, which is what SIGPIPE's default action would have given a C
/// program (Rust ignores SIGPIPE). Any other write error is fatal (exit 2).
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::cli::output::write_stdout_line(format_args!($($arg)*))
    };
}
pub(crate) use say;

/// The body of [`say!`].
pub(crate) fn write_stdout_line(args: std::fmt::Arguments<'_>) {
    let mut out = io::stdout().lock();
    let written = out
        .write_fmt(args)
        .and_then(|()| out.write_all(b"\n"))
        .and_then(|()| out.flush());
    match written {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => {
            eprintln!("torpeer: error: writing to stdout: {e}");
            std::process::exit(2);
        }
    }
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
