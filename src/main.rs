//! The `cio-sql` command line: parses arguments and calls the library.

// Diagnostics are large but returned on the cold path only (as in the library).
#![allow(clippy::result_large_err)]
// Output goes through cio_sql::report::print_out/print_err (never a panic).
#![deny(clippy::print_stdout, clippy::print_stderr)]

use cio_sql::compile::CompileOptions;
use cio_sql::project::LoadOptions;
use cio_sql::report::{LogFormat, Output};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

// A compile allocates and frees millions of small strings, tokens and syntax
// nodes on several threads at once (minijinja values, sqlparser trees);
// mimalloc serves that with far fewer instructions than glibc's malloc.
// Version 2 is used: version 3 commits whole arenas up front on Linux, which
// adds tens of megabytes of resident memory to every compile.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Compile nexus-style Snowflake models into Customer.io reverse-ETL sync tables.
#[derive(Parser, Debug)]
#[command(name = "cio-sql", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Render every model to plain Snowflake SQL under target/compiled/.
    Compile {
        #[command(flatten)]
        project: ProjectArgs,
        #[command(flatten)]
        selection: SelectionArgs,
        #[command(flatten)]
        output: OutputArgs,
        /// Print the compiled SQL of the selected models to stdout.
        #[arg(long)]
        show: bool,
        /// Treat warnings as errors.
        #[arg(long)]
        warn_error: bool,
        /// Read columns from Snowflake (one query per database) instead of catalog.yml.
        #[arg(long)]
        live: bool,
    },
    /// Compare the compiled SQL with the reviewed copies kept in the project (exit 1 on any difference).
    Review {
        #[command(flatten)]
        project: ProjectArgs,
        #[command(flatten)]
        selection: SelectionArgs,
        #[command(flatten)]
        output: OutputArgs,
        /// The folder of reviewed SQL, relative to the project.
        #[arg(long, default_value = "reviewed")]
        dir: PathBuf,
        /// Write the compiled SQL as the new reviewed version.
        #[arg(long)]
        accept: bool,
    },
    /// List the selected models: name, materialization, relation, tags.
    Ls {
        #[command(flatten)]
        project: ProjectArgs,
        #[command(flatten)]
        selection: SelectionArgs,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Print what to paste into Customer.io for a sync model: the sync type,
    /// the incremental query, the backfill query and the column mapping.
    /// Without MODEL, every sync model in the initial sync order.
    SyncQuery {
        /// The sync model (default: every sync model of the project).
        model: Option<String>,
        #[command(flatten)]
        project: ProjectArgs,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Show where every output column of a model comes from: its source
    /// columns (relation.column) through every CTE and ref, and whether it
    /// is copied or transformed.
    Lineage {
        /// The model.
        model: String,
        /// `text` for a table with a tree per column, `json` for tools.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        #[command(flatten)]
        project: ProjectArgs,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Refresh catalog.yml from Snowflake's INFORMATION_SCHEMA (one query per database).
    Catalog {
        #[command(flatten)]
        project: ProjectArgs,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Load the CSV files of the seed folders into Snowflake.
    Seed {
        #[command(flatten)]
        project: ProjectArgs,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Build the selected models in Snowflake, in dependency order.
    Run {
        #[command(flatten)]
        project: ProjectArgs,
        #[command(flatten)]
        selection: SelectionArgs,
        #[command(flatten)]
        output: OutputArgs,
        #[command(flatten)]
        run: RunArgs,
    },
    /// Load the seeds, then build the selected models (seed + run).
    Build {
        #[command(flatten)]
        project: ProjectArgs,
        #[command(flatten)]
        selection: SelectionArgs,
        #[command(flatten)]
        output: OutputArgs,
        #[command(flatten)]
        run: RunArgs,
    },
    /// Run a model's compiled SQL with a limit and print the rows.
    Show {
        /// The model to preview.
        model: String,
        /// Rows to fetch.
        #[arg(long, default_value_t = 10)]
        limit: usize,
        /// How to print the rows.
        #[arg(long, value_enum, default_value_t = ShowFormatArg::Table)]
        format: ShowFormatArg,
        #[command(flatten)]
        project: ProjectArgs,
        #[command(flatten)]
        output: OutputArgs,
    },
}

#[derive(Args, Debug)]
struct RunArgs {
    /// Models built at once (default: `threads` of the target, else 1).
    #[arg(long)]
    threads: Option<usize>,
    /// Stop at the first failure; models not started are skipped.
    #[arg(long)]
    fail_fast: bool,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum ShowFormatArg {
    Table,
    Csv,
    Json,
}

fn connect(
    project: &cio_sql::project::Project,
) -> Result<Box<dyn cio_sql::warehouse::Warehouse>, cio_sql::diagnostics::Diagnostic> {
    cio_sql::connect::connect(&project.target)
}

fn run_options(run: &RunArgs) -> cio_sql::run::RunOptions {
    cio_sql::run::RunOptions {
        threads: run.threads.unwrap_or(0),
        fail_fast: run.fail_fast,
        failed_seeds: Vec::new(),
    }
}

#[derive(Args, Debug)]
struct ProjectArgs {
    /// The project folder (holds dbt_project.yml).
    #[arg(long, default_value = ".", env = "CIO_SQL_PROJECT_DIR")]
    project_dir: PathBuf,
    /// The folder holding profiles.yml (default: $DBT_PROFILES_DIR, the project folder, ~/.dbt).
    #[arg(long)]
    profiles_dir: Option<PathBuf>,
    /// The profile target to use (default: the profile's `target:`).
    #[arg(long, short = 't')]
    target: Option<String>,
    /// Project variables as a YAML mapping, e.g. '{min_orders: 2}'.
    #[arg(long)]
    vars: Option<String>,
    /// The offline catalog file (default: catalog-path of the project, catalog.yml).
    #[arg(long)]
    catalog: Option<PathBuf>,
    /// Compile every model anew: neither read nor write target/compile_cache.bin.
    #[arg(long)]
    no_cache: bool,
}

#[derive(Args, Debug, Default)]
struct SelectionArgs {
    /// Models to include, in dbt's syntax: name, +name, name+, tag:x, path:models/x.
    #[arg(long, short = 's', num_args = 1.., value_name = "SPEC")]
    select: Vec<String>,
    /// Models to leave out, same syntax as --select.
    #[arg(long, num_args = 1.., value_name = "SPEC")]
    exclude: Vec<String>,
}

#[derive(Args, Debug)]
struct OutputArgs {
    /// Print errors only.
    #[arg(long, short = 'q')]
    quiet: bool,
    /// `text` for people, `json` for one JSON object per line.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    log_format: Format,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum Format {
    Text,
    Json,
}

impl ProjectArgs {
    fn load(&self) -> LoadOptions {
        LoadOptions {
            project_dir: self.project_dir.clone(),
            profiles_dir: self.profiles_dir.clone(),
            target: self.target.clone(),
            vars: self.vars.clone(),
            catalog: self.catalog.clone(),
        }
    }
}

impl OutputArgs {
    fn output(&self) -> Output {
        Output {
            format: match self.log_format {
                Format::Text => LogFormat::Text,
                Format::Json => LogFormat::Json,
            },
            quiet: self.quiet,
            color: Output::detect_color(),
        }
    }
}

fn compile_options(
    project: &ProjectArgs,
    selection: &SelectionArgs,
    write: bool,
    warn_error: bool,
) -> CompileOptions {
    CompileOptions {
        load: project.load(),
        select: selection.select.clone(),
        exclude: selection.exclude.clone(),
        write,
        warn_error,
        use_cache: !project.no_cache,
    }
}

fn main() {
    // Like other Unix tools, stop quietly when the reader of stdout goes
    // away (`cio-sql compile --show | head`) instead of panicking on EPIPE.
    #[cfg(unix)]
    // SAFETY: called first thing in main, before any thread exists; restoring
    // the default SIGPIPE disposition has no other effect on the process.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    // The one logger: dependencies' logs (snowflake-api logs its login
    // replies, tokens included) are off unless CIO_SQL_LOG asks, and scrubbed;
    // panic messages are scrubbed too.
    cio_sql::redact::install();
    // Ctrl-C and `kill` remove the temporary files in flight, then exit
    // 130 / 143 (see cio_sql::files).
    cio_sql::files::install_signal_handlers();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version exit 0, usage errors 2; a failure to
            // print them is reported like any other failed write.
            let code = e.exit_code();
            if let Err(io) = e.print() {
                cio_sql::report::print_err(&format!(
                    "error[CIO023]: cannot write the help text: {io}\n"
                ));
                std::process::exit(code.max(1));
            }
            std::process::exit(code);
        }
    };
    let code = match &cli.command {
        Command::Compile {
            project,
            selection,
            output,
            show,
            warn_error,
            live,
        } => cio_sql::cli::compile_command(
            &compile_options(project, selection, true, *warn_error),
            *show,
            live.then_some(&connect as &cio_sql::cli::Connector),
            &output.output(),
        ),
        Command::Catalog { project, output } => {
            cio_sql::execute::catalog_command(&project.load(), &output.output(), &connect)
        }
        Command::Seed { project, output } => cio_sql::execute::run_command(
            cio_sql::execute::RunKind::Seed,
            &compile_options(project, &SelectionArgs::default(), false, false),
            cio_sql::run::RunOptions::default(),
            &output.output(),
            &connect,
        ),
        Command::Run {
            project,
            selection,
            output,
            run,
        } => cio_sql::execute::run_command(
            cio_sql::execute::RunKind::Run,
            &compile_options(project, selection, true, false),
            run_options(run),
            &output.output(),
            &connect,
        ),
        Command::Build {
            project,
            selection,
            output,
            run,
        } => cio_sql::execute::run_command(
            cio_sql::execute::RunKind::Build,
            &compile_options(project, selection, true, false),
            run_options(run),
            &output.output(),
            &connect,
        ),
        Command::Show {
            model,
            limit,
            format,
            project,
            output,
        } => cio_sql::execute::show_command(
            &compile_options(project, &SelectionArgs::default(), false, false),
            model,
            *limit,
            match format {
                ShowFormatArg::Table => cio_sql::execute::ShowFormat::Table,
                ShowFormatArg::Csv => cio_sql::execute::ShowFormat::Csv,
                ShowFormatArg::Json => cio_sql::execute::ShowFormat::Json,
            },
            &output.output(),
            &connect,
        ),
        Command::Review {
            project,
            selection,
            output,
            dir,
            accept,
        } => cio_sql::cli::review_command(
            &compile_options(project, selection, false, false),
            dir,
            *accept,
            &output.output(),
        ),
        Command::Ls {
            project,
            selection,
            output,
        } => cio_sql::cli::ls_command(
            &compile_options(project, selection, false, false),
            &output.output(),
        ),
        Command::SyncQuery {
            model,
            project,
            output,
        } => cio_sql::sync_query::sync_query_command(
            &compile_options(project, &SelectionArgs::default(), false, false),
            model.as_deref(),
            &output.output(),
        ),
        Command::Lineage {
            model,
            format,
            project,
            output,
        } => cio_sql::lineage::lineage_command(
            &compile_options(project, &SelectionArgs::default(), false, false),
            model,
            matches!(format, Format::Json),
            &output.output(),
        ),
    };
    std::process::exit(cio_sql::report::finish_streams(code));
}
