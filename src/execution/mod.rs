//! Execution: the commands that talk to Snowflake. Refreshing the catalog
//! ([`catalog`]: `cio-sql catalog`, `compile --live`), loading seeds
//! ([`seed`]), building models in dependency order ([`run`]: `seed`,
//! `run`, `build`, through the node [`scheduler`] and each model's
//! [`materialize`] step) and previewing a model ([`show`]). Everything goes
//! through the [`Warehouse`](crate::warehouse::Warehouse) trait, opened by a
//! [`Connector`] ([`connect::connect`] for Snowflake), so tests drive it
//! with a mock or the local emulator.

pub mod catalog;
pub mod connect;
pub mod data_test;
pub mod export;
pub mod incremental;
pub mod materialize;
pub mod plan;
pub mod run;
pub mod scheduler;
pub mod seed;
pub mod show;

pub use connect::Connector;
