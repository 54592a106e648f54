//! The `torpeer` command line. Exit codes: 0 ok, 1 invalid input or failed
//! verification (reason on stderr), 2 usage or I/O error.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
