//! cio-sql: compile nexus-style Snowflake models into Customer.io reverse-ETL
//! sync tables.
//!
//! The pipeline runs one way: [`project`] loading → [`catalog`] →
//! [`render`] → [`analysis`] → [`output`] → execution. See ARCHITECTURE.md.

// Diagnostics carry a source snippet and help text; they are returned on the
// cold path only, so their size is not worth boxing.
#![allow(clippy::result_large_err)]
// Output goes through `report::print_out`/`print_err`, which never panic on
// a failed write; files are removed and renamed only by `files` (see
// clippy.toml).
#![deny(clippy::print_stdout, clippy::print_stderr)]
#![warn(clippy::disallowed_methods)]

pub mod analysis;
pub mod artifacts;
pub mod catalog;
pub mod cli;
pub mod compile;
pub mod destinations;
pub mod diagnostics;
pub mod execution;
pub mod files;
pub mod pipeline;
pub mod project;
pub mod redact;
pub mod render;
pub mod report;
pub mod reports;
pub mod settings;
pub mod sql;
pub mod store;
pub mod suggest;
pub mod timings;
pub mod warehouse;
