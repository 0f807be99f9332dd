//! Analysis: the compiled SQL parsed with sqlparser's Snowflake dialect.
//! Output columns with lineage ([`columns`]), Customer.io reverse-ETL
//! contract checks ([`contract`]), parse validation ([`validate`]), the
//! analysis of each model during compile ([`project`]), where in a model's
//! source a finding is ([`locate`]), and the relations a model's SQL names
//! ([`reads`]).

pub mod columns;
pub mod contract;
pub mod locate;
pub mod meta_capi;
pub mod project;
pub mod reads;
pub mod tracking;
pub mod validate;

pub use columns::{
    AnalysisError, ColumnInfo, ColumnProblem, Naming, NoRelations, OutputColumn, ProblemKind,
    RelationColumns, SourceColumn, Transform, output_columns, statement_analysis,
    statement_output_columns,
};
pub use contract::{Finding, Severity, SyncType, UnknownSyncType, check_contract};
