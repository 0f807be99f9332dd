//! The command line: the clap definitions (`args.rs`), one file per command,
//! and [`ExitStatus`]. A command parses nothing and decides nothing about
//! the project: it calls the library, prints what it returns, and maps the
//! outcome to an exit status, the only place exit codes are decided.

mod args;
mod catalog;
mod compile;
mod export;
mod lineage;
mod ls;
mod ls_tests;
mod plan;
mod review;
mod run;
mod show;
mod sync_query;
mod test;

pub use args::Cli;

use crate::compile::{Compilation, CompileOptions};
use crate::diagnostics::{Diagnostic, Kind, codes};
use crate::execution::connect::connect_project;
use crate::execution::run::{RunKind, RunOptions};
use crate::report::Output;
use args::{Command, Format, RunArgs, SelectionArgs, ShowFormatArg, compile_options};

/// How a command ended: the process exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// `0`: the command did what it was asked.
    Success,
    /// `1`: the work was done and something failed (a model did not
    /// compile, a node did not build, a review differs), or the command
    /// could not proceed for a runtime reason (the disk, the terminal,
    /// another cio-sql process, the warehouse).
    Failure,
    /// `2`: a usage or configuration error, fixed by changing the command
    /// or the project.
    Error,
}

impl ExitStatus {
    /// The status of a command stopped by `d`, as the kind of its code (in
    /// the registry, [`crate::diagnostics::codes`]) says:
    /// [`ExitStatus::Failure`] for a runtime error, [`ExitStatus::Error`]
    /// for a usage or configuration error.
    pub fn of(d: &Diagnostic) -> Self {
        match d.code.kind() {
            Kind::Runtime => ExitStatus::Failure,
            Kind::Usage | Kind::Warning => ExitStatus::Error,
        }
    }

    /// [`ExitStatus::Success`] when `ok`, else [`ExitStatus::Failure`].
    pub fn failed_unless(ok: bool) -> Self {
        if ok {
            ExitStatus::Success
        } else {
            ExitStatus::Failure
        }
    }

    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::Failure => 1,
            ExitStatus::Error => 2,
        }
    }
}

/// Sets up the process before any command runs (call it first in `main`,
/// before any thread exists): a closed stdout ends the process quietly
/// (`cio-sql compile --show | head`), as for other Unix tools; the one
/// logger and the scrubbing panic hook are installed (see
/// [`crate::redact`]); and Ctrl-C or `kill` removes the temporary files in
/// flight, then exits 130 or 143 (see [`crate::files`]).
pub fn install_process_handlers() {
    #[cfg(unix)]
    // SAFETY: called first thing in main, before any thread exists;
    // restoring the default SIGPIPE disposition has no other effect on the
    // process.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    crate::redact::install();
    crate::files::install_signal_handlers();
}

/// Prints clap's message for a command line it refused (or for `--help`
/// and `--version`), and returns the status to exit with: clap's (0 for
/// help and version, 2 for usage errors), at least 1 when the text could
/// not be written.
pub fn print_usage(e: &clap::Error) -> ExitStatus {
    let status = if e.exit_code() == 0 {
        ExitStatus::Success
    } else {
        ExitStatus::Error
    };
    if let Err(io) = e.print() {
        crate::report::print_err(&format!(
            "error[{}]: cannot write the help text: {io}\n",
            codes::STDOUT_FAILED
        ));
        return match status {
            ExitStatus::Success => ExitStatus::Failure,
            other => other,
        };
    }
    status
}

/// Flushes stdout and returns the process exit code for `status`: at
/// least 1 when writing the output failed (see
/// [`crate::report::finish_streams`]).
pub fn finish(status: ExitStatus) -> u8 {
    let code = crate::report::finish_streams(i32::from(status.code()));
    u8::try_from(code).unwrap_or(1)
}

/// The compilation a command reads without writing `target/`, or the
/// status of the error that stopped it (printed).
fn compile_only(opts: &CompileOptions, out: &Output) -> Result<Compilation, ExitStatus> {
    crate::pipeline::compile(&CompileOptions {
        write: false,
        ..opts.clone()
    })
    .map_err(|d| fatal(out, &d))
}

/// Prints `d`, which stops the command, and returns the command's status.
fn fatal(out: &Output, d: &Diagnostic) -> ExitStatus {
    out.diagnostic(d);
    ExitStatus::of(d)
}

fn run_options(run: &RunArgs) -> RunOptions {
    RunOptions {
        threads: run.threads.unwrap_or(0),
        fail_fast: run.fail_fast,
        allow_mass_delete: run.allow_mass_delete,
        full_refresh: run.full_refresh,
        renderer: None,
        failed_seeds: Vec::new(),
        tests: Default::default(),
    }
}

/// Runs the command `cli` asks for.
pub fn run(cli: &Cli) -> ExitStatus {
    let none = SelectionArgs::default();
    match &cli.command {
        Command::Compile {
            project,
            selection,
            output,
            show,
            warn_error,
            live,
        } => compile::compile(
            &compile_options(project, selection, true, *warn_error),
            *show,
            live.then_some(&connect_project as &crate::execution::Connector),
            &output.output(),
        ),
        Command::Catalog { project, output } => {
            catalog::catalog(&project.load(), &output.output(), &connect_project)
        }
        Command::Seed { project, output } => run::run(
            RunKind::Seed,
            &compile_options(project, &none, false, false),
            RunOptions::default(),
            &output.output(),
            &connect_project,
        ),
        Command::Run {
            project,
            selection,
            output,
            run,
        } => run::run(
            RunKind::Run,
            &compile_options(project, selection, true, false),
            run_options(run),
            &output.output(),
            &connect_project,
        ),
        Command::Build {
            project,
            selection,
            output,
            run,
            tests,
        }
        | Command::Test {
            project,
            selection,
            output,
            run,
            tests,
        } => run::run(
            if matches!(cli.command, Command::Build { .. }) {
                RunKind::Build
            } else {
                RunKind::Test
            },
            &compile_options(project, selection, true, false),
            test::with_tests(run_options(run), tests),
            &output.output(),
            &connect_project,
        ),
        Command::Show {
            model,
            limit,
            format,
            project,
            output,
        } => show::show(
            &compile_options(project, &none, false, false),
            model,
            *limit,
            match format {
                ShowFormatArg::Table => crate::execution::show::ShowFormat::Table,
                ShowFormatArg::Csv => crate::execution::show::ShowFormat::Csv,
                ShowFormatArg::Json => crate::execution::show::ShowFormat::Json,
            },
            &output.output(),
            &connect_project,
        ),
        Command::Export {
            model,
            out,
            format,
            since,
            project,
            output,
        } => export::export(
            &compile_options(project, &none, false, false),
            model,
            out,
            format.map(export::format),
            *since,
            &output.output(),
            &connect_project,
        ),
        Command::Review {
            project,
            selection,
            output,
            dir,
            accept,
        } => review::review(
            &compile_options(project, selection, false, false),
            dir,
            *accept,
            &output.output(),
        ),
        Command::Ls {
            project,
            selection,
            output,
            list_output,
            resource_type,
        } => ls::ls(
            &compile_options(project, selection, false, false),
            &output.output(),
            *list_output,
            resource_type,
        ),
        Command::Plan {
            project,
            selection,
            output,
            rows,
        } => plan::plan(
            &compile_options(project, selection, false, false),
            *rows,
            &output.output(),
            &connect_project,
        ),
        Command::SyncQuery {
            model,
            project,
            output,
        } => sync_query::sync_query(
            &compile_options(project, &none, false, false),
            model.as_deref(),
            &output.output(),
        ),
        Command::Lineage {
            model,
            format,
            project,
            output,
        } => lineage::lineage(
            &compile_options(project, &none, false, false),
            model,
            matches!(format, Format::Json),
            &output.output(),
        ),
    }
}
