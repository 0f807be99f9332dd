//! cio-sql: compile nexus-style Snowflake models into Customer.io reverse-ETL
//! sync tables.
//!
//! The pipeline runs one way: [`project`] loading → [`catalog`] →
//! [`render`] → [`analysis`] → [`output`] → execution. See ARCHITECTURE.md.
pub mod warehouse;
