//! The `cio-sql` command line: parses arguments and calls the library.

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
}

#[derive(Args, Debug)]
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
    }
}

fn main() {
    let cli = Cli::parse();
    let code = match &cli.command {
        Command::Compile {
            project,
            selection,
            output,
            show,
            warn_error,
        } => cio_sql::cli::compile_command(
            &compile_options(project, selection, true, *warn_error),
            *show,
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
    };
    std::process::exit(code);
}
