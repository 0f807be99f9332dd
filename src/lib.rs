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
pub mod cache;
pub mod catalog;
pub mod cli;
pub mod compact;
pub mod compile;
pub mod connect;
pub mod dag;
pub mod diagnostics;
pub mod execute;
pub mod files;
pub mod lineage;
pub mod lock;
pub mod names;
pub mod output;
pub mod project;
pub mod redact;
pub mod render;
pub mod report;
pub mod review;
pub mod run;
pub mod seed;
pub mod select;
pub mod suggest;
pub mod sync_query;
pub mod timings;
pub mod warehouse;
