//! The command line: every command and flag, with clap's derive.

use crate::compile::CompileOptions;
use crate::project::LoadOptions;
use crate::report::{LogFormat, Output};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Compile nexus-style Snowflake models into Customer.io reverse-ETL sync tables.
#[derive(Parser, Debug)]
#[command(name = "cio-sql", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    /// The command to run.
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
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
    /// List the selected models and seeds: name, materialization, relation, tags.
    Ls {
        #[command(flatten)]
        project: ProjectArgs,
        #[command(flatten)]
        selection: SelectionArgs,
        #[command(flatten)]
        output: OutputArgs,
        /// dbt's output forms: `selector` (project.folder.name), `name`,
        /// `path`, or `json` (one dbt-style node object per line). Without
        /// it, a table: name, materialization, relation, tags.
        #[arg(long = "output", short = 'o', value_enum, value_name = "FORMAT")]
        list_output: Option<LsOutput>,
        /// List only these kinds of node (several allowed); `all` or
        /// `default` for every kind.
        #[arg(long = "resource-type", value_enum, num_args = 1.., value_name = "TYPE")]
        resource_type: Vec<ResourceType>,
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
    /// Show what the next build would change in each change-tracked sync
    /// table, and so what the next sync would send: new, changed, unchanged
    /// and deleted rows. Changes nothing; exit 1 when a model would trip
    /// the mass-delete guard.
    Plan {
        #[command(flatten)]
        project: ProjectArgs,
        #[command(flatten)]
        selection: SelectionArgs,
        #[command(flatten)]
        output: OutputArgs,
        /// Sample keys to print of each kind.
        #[arg(long, default_value_t = 0)]
        rows: usize,
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
    /// Load the seeds, then build the selected models (seed + run), each
    /// model's data tests right after it.
    Build {
        #[command(flatten)]
        project: ProjectArgs,
        #[command(flatten)]
        selection: SelectionArgs,
        #[command(flatten)]
        output: OutputArgs,
        #[command(flatten)]
        run: RunArgs,
        #[command(flatten)]
        tests: TestArgs,
    },
    /// Run the data tests of the selected models in Snowflake: the contract
    /// tests of every sync model (exit 1 when a test of severity error fails).
    Test {
        #[command(flatten)]
        project: ProjectArgs,
        #[command(flatten)]
        selection: SelectionArgs,
        #[command(flatten)]
        output: OutputArgs,
        #[command(flatten)]
        run: RunArgs,
        #[command(flatten)]
        tests: TestArgs,
    },
    /// Write a model's built table into files: csv, jsonl, or a
    /// destination's request bodies (Customer.io v2 batch, Meta Conversions
    /// API, MoEngage bulk import), split to the destination's limits.
    Export {
        /// The model whose built table to export.
        model: String,
        /// The folder to write the files into (created if missing).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// The file format (default: the model's destination's, else jsonl).
        #[arg(long, value_enum)]
        format: Option<ExportFormatArg>,
        /// Only rows whose change time is at or after this Unix time
        /// (change-tracked tables only; deletions included).
        #[arg(long, value_name = "UNIX_TIME")]
        since: Option<i64>,
        #[command(flatten)]
        project: ProjectArgs,
        #[command(flatten)]
        output: OutputArgs,
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
pub struct RunArgs {
    /// Models built at once (default: `threads` of the target, else 1).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Stop at the first failure; models not started are skipped.
    #[arg(long)]
    pub fail_fast: bool,
    /// Let a change-tracked sync table lose more than its
    /// `cio_max_delete_share` of rows (default 50%) in one build.
    #[arg(long)]
    pub allow_mass_delete: bool,
    /// Rebuild incremental models whole, as on their first run (`run`,
    /// `build`; a model's `full_refresh=false` config keeps its table).
    #[arg(long)]
    pub full_refresh: bool,
}

#[derive(Args, Debug)]
pub struct TestArgs {
    /// Print up to N failing rows of each failing test.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub rows: usize,
    /// Write each test's failing rows to a table of `<schema>_dbt_test__audit`.
    #[arg(long)]
    pub store_failures: bool,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum ShowFormatArg {
    Table,
    Csv,
    Json,
}

/// `export --format`.
#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum ExportFormatArg {
    Csv,
    Jsonl,
    Customerio,
    #[value(name = "meta_capi")]
    MetaCapi,
    Moengage,
}

#[derive(Args, Debug)]
pub struct ProjectArgs {
    /// The project folder (holds dbt_project.yml).
    #[arg(long, default_value = ".", env = "CIO_SQL_PROJECT_DIR")]
    pub project_dir: PathBuf,
    /// The folder holding profiles.yml (default: $DBT_PROFILES_DIR, the project folder, ~/.dbt).
    #[arg(long)]
    pub profiles_dir: Option<PathBuf>,
    /// The profile target to use (default: the profile's `target:`).
    #[arg(long, short = 't')]
    pub target: Option<String>,
    /// Project variables as a YAML mapping, e.g. '{min_orders: 2}'.
    #[arg(long)]
    pub vars: Option<String>,
    /// The offline catalog file (default: catalog-path of the project, catalog.yml).
    #[arg(long)]
    pub catalog: Option<PathBuf>,
    /// Compile every model anew: neither read nor write target/compile_cache.bin.
    #[arg(long)]
    pub no_cache: bool,
}

#[derive(Args, Debug, Default)]
pub struct SelectionArgs {
    /// Models and seeds to include, in dbt's syntax: name, +name, name+, @name,
    /// tag:x, path:models/x, fqn:, resource_type:, config.<key>:, source:,
    /// state:modified (with --state).
    #[arg(long, short = 's', num_args = 1.., value_name = "SPEC")]
    pub select: Vec<String>,
    /// Nodes to leave out, same syntax as --select.
    #[arg(long, num_args = 1.., value_name = "SPEC")]
    pub exclude: Vec<String>,
    /// A folder holding the manifest.json of an earlier compile, which
    /// `state:new` and `state:modified` compare with.
    #[arg(long, value_name = "DIR")]
    pub state: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct OutputArgs {
    /// Print errors only.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// `text` for people, `json` for one JSON object per line.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub log_format: Format,
}

/// `ls --output`: dbt's forms.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LsOutput {
    Selector,
    Name,
    Path,
    Json,
}

/// `ls --resource-type`: the kinds of node cio-sql has, plus dbt's `all`
/// and `default`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResourceType {
    Model,
    Seed,
    /// Data tests: listed only when asked for by name.
    Test,
    All,
    Default,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum Format {
    Text,
    Json,
}

impl ProjectArgs {
    /// The project loading options these flags give.
    pub fn load(&self) -> LoadOptions {
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
    /// The output settings these flags give.
    pub fn output(&self) -> Output {
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

/// The compile options of a command: `write` for commands that write
/// `target/`, `warn_error` for `--warn-error`.
pub fn compile_options(
    project: &ProjectArgs,
    selection: &SelectionArgs,
    write: bool,
    warn_error: bool,
) -> CompileOptions {
    CompileOptions {
        load: project.load(),
        select: selection.select.clone(),
        exclude: selection.exclude.clone(),
        state: selection.state.clone(),
        write,
        warn_error,
        use_cache: !project.no_cache,
    }
}
