//! Analysis: the compiled SQL parsed with sqlparser's Snowflake dialect.

pub mod validate;
