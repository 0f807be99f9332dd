//! Analysis: the compiled SQL parsed with sqlparser's Snowflake dialect.
//! Output columns with lineage ([`columns`]), Customer.io reverse-ETL
//! contract checks ([`contract`]), parse validation ([`validate`]), and the
//! analysis of each model during compile ([`model`]).

pub mod columns;
pub mod contract;
mod lineage;
pub mod model;
pub mod reads;
pub mod validate;

pub use columns::{
    AnalysisError, ColumnInfo, Naming, NoRelations, OutputColumn, RelationColumns, SourceColumn,
    Transform, output_columns, statement_output_columns,
};
pub use contract::{Finding, Severity, SyncType, UnknownSyncType, check_contract};
