//! `sync-query` for the destinations that are not Customer.io: what reads
//! the sync table, and how to set it up.
//!
//! RudderStack reads the table through its reverse ETL ("How to Use the
//! JSON Data Mapper",
//! <https://www.rudderstack.com/docs/data-pipelines/reverse-etl/developer-guides/json-data-mapping/>:
//! a table or SQL model, a unique row key, and, for incremental syncs, a
//! cursor column). With change tracking, the row key is the table's
//! `__cio_sql_key` and the cursor its `__cio_sql_changed_at`; the
//! tombstones carry the delete action, so the query keeps them. A
//! destination with no reverse ETL gets its rows through `cio-sql export`.

use super::sync_query::SyncSetup;
use crate::analysis::tracking::{CHANGED_AT, DELETED, KEY, Tracking};
use crate::sql::quote;
use std::fmt::Write as _;

/// The query the destination's reverse ETL reads: the model's columns, with
/// the row key and cursor of change tracking when the table has them;
/// tombstones only when they carry a delete action.
pub fn query(tracking: Option<&Tracking>, columns: &[String], relation: &str) -> String {
    let mut items: Vec<String> = columns.iter().map(|c| quote(c)).collect();
    let Some(t) = tracking else {
        return format!("SELECT {}\nFROM {relation}", items.join(", "));
    };
    items.push(quote(KEY));
    items.push(quote(CHANGED_AT));
    let live = if t.delete_action().is_some() {
        String::new()
    } else {
        format!("\nWHERE NOT {}", quote(DELETED))
    };
    format!("SELECT {}\nFROM {relation}{live}", items.join(", "))
}

/// One model's setup as text.
pub fn render(s: &SyncSetup) -> String {
    let dest = s.sync_type.destination();
    let mut out = String::new();
    let _ = writeln!(out, "== {} ({})", s.model, s.path);
    let _ = writeln!(out, "Destination: {}", s.label);
    let _ = writeln!(out, "Relation:    {}", s.relation);
    out.push('\n');
    if !dest.reads_warehouse {
        let _ = writeln!(
            out,
            "{} does not read the warehouse: build the table, then write the files its import takes with `cio-sql export {}`.",
            dest.title, s.model
        );
    } else {
        let _ = writeln!(
            out,
            "-- Query: the SQL model of a {} reverse-ETL source (or pick the table itself). Every row is one call.",
            dest.title
        );
        let _ = writeln!(out, "{}\n", s.query);
        if s.change_tracked {
            let _ = writeln!(
                out,
                "Row key (the unique identifier column): \"{KEY}\"\nCursor column (incremental syncs):      \"{CHANGED_AT}\"\nLeave these two out of the mapped traits: they are cio-sql's bookkeeping, and would become attributes."
            );
        } else {
            let _ = writeln!(
                out,
                "The table is not change-tracked: pick the key columns as its unique identifier, and sync it in full (or materialize it as a table for a row key and cursor)."
            );
        }
    }
    out.push('\n');
    super::sync_query::render_mapping(&mut out, s);
    if let Some((field, value)) = &s.delete_action {
        let _ = writeln!(
            out,
            "\nnote: a row the model no longer returns stays in the table as a tombstone with \"{field}\" = '{value}' and a new \"{CHANGED_AT}\", so the next incremental sync tells {} to delete it (config(cio_deletes=false) keeps tombstones out of the query).",
            dest.title
        );
    }
    out
}
