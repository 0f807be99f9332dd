//! The `cio-sql` binary: parses the command line and runs the command
//! (see `cio_sql::cli`).

// Output goes through cio_sql::report::print_out/print_err (never a panic).
#![deny(clippy::print_stdout, clippy::print_stderr)]

use cio_sql::cli::Cli;
use clap::Parser;
use std::process::ExitCode;

// A compile allocates and frees millions of small strings, tokens and syntax
// nodes on several threads at once (minijinja values, sqlparser trees);
// mimalloc serves that with far fewer instructions than glibc's malloc.
// Version 2 is used: version 3 commits whole arenas up front on Linux, which
// adds tens of megabytes of resident memory to every compile; transparent
// huge pages are off for the same reason (see Cargo.toml).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    cio_sql::cli::install_process_handlers();
    let status = match Cli::try_parse() {
        Ok(cli) => cio_sql::cli::run(&cli),
        // --help and --version exit 0, usage errors 2.
        Err(e) => cio_sql::cli::print_usage(&e),
    };
    ExitCode::from(cio_sql::cli::finish(status))
}
