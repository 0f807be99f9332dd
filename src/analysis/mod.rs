//! Analysis: the compiled SQL parsed with sqlparser's Snowflake dialect.
//! Output columns with lineage ([`columns`]), Customer.io reverse-ETL
//! contract checks ([`contract`]), and parse validation ([`validate`]).

pub mod columns;
pub mod contract;
mod lineage;
pub mod validate;

pub use columns::{
    AnalysisError, ColumnInfo, Naming, NoRelations, OutputColumn, RelationColumns, SourceColumn,
    Transform, output_columns,
};
pub use contract::{Finding, Severity, SyncType, UnknownSyncType, check_contract};
