//! cio-sql: compile nexus-style Snowflake models into Customer.io reverse-ETL
//! sync tables.
//!
//! The pipeline runs one way, a stage using only the stages before it and
//! the shared leaf modules (see ARCHITECTURE.md; `tests/it/layering.rs`
//! checks it):
//!
//! [`project`] → [`catalog`] → [`render`] → [`analysis`] → [`store`] →
//! [`compile`] → [`artifacts`] → [`pipeline`] → [`reports`]; [`warehouse`]
//! (the Snowflake client) → [`execution`]; and [`cli`] on top.
//!
//! Leaves: [`sql`] (names, quoting, relations, columns, types),
//! [`settings`], [`suggest`], [`destinations`] (each sync type's columns),
//! [`diagnostics`] (and the code registry), [`redact`], [`report`],
//! [`timings`], [`files`].
//!
//! The types most callers need are re-exported here.

// Diagnostics carry a source snippet and help text; they are returned on the
// cold path only, so their size is not worth boxing.
#![allow(clippy::result_large_err)]
// Output goes through `report::print_out`/`print_err`, which never panic on
// a failed write; files are removed and renamed only by `files` (see
// clippy.toml).
#![deny(clippy::print_stdout, clippy::print_stderr)]
#![warn(clippy::disallowed_methods)]
#![deny(missing_docs)]

// Shared leaf modules.
pub mod destinations;
pub mod diagnostics;
pub mod files;
pub mod redact;
pub mod report;
pub mod settings;
pub mod sql;
pub mod suggest;
pub mod timings;

// Stages (their order is in the module docs above).
pub mod analysis;
pub mod artifacts;
pub mod catalog;
pub mod cli;
pub mod compile;
pub mod execution;
pub mod pipeline;
pub mod project;
pub mod render;
pub mod reports;
pub mod store;
pub mod warehouse;

pub use catalog::{Catalog, OfflineCatalog, load_catalog};
pub use cli::{Cli, ExitStatus};
pub use compile::{Compilation, CompileOptions, CompiledModel, ModelStatus};
pub use destinations::SyncType;
pub use diagnostics::{Code, Diagnostic, Severity};
pub use pipeline::compile_project;
pub use project::{LoadOptions, Project, Target};
pub use sql::{Column, Quoting, RelationName};
pub use warehouse::{
    Executed, Rows, SnowflakeConfig, SnowflakeWarehouse, Warehouse, WarehouseError,
};
