//! Analysis: the compiled SQL parsed with sqlparser's Snowflake dialect.
//! Output columns with lineage ([`columns`]).

pub mod columns;
mod lineage;
pub mod validate;

pub use columns::{
    AnalysisError, ColumnInfo, Naming, NoRelations, OutputColumn, RelationColumns, SourceColumn,
    Transform, output_columns,
};
