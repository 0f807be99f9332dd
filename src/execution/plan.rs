//! `cio-sql plan`: for each selected change-tracked sync table, what the
//! next build would change, and so what the next sync would send: how many
//! rows are new, changed, unchanged and deleted, with sample keys of each.
//!
//! It runs the diff of [`crate::analysis::tracking`] (the model's SELECT
//! joined with the table as it is: the kinds the build statement gives the
//! same rows) as plain queries, and changes nothing in the warehouse. The
//! model reads its upstream relations as they are now: load the seeds
//! (`cio-sql seed`) and build the upstream models first (`TablePlan::reads_models`
//! names them) for the plan of the data they will hold.

use crate::compile::{Compilation, ModelStatus, tracking_of};
use crate::destinations::SyncType;
use crate::diagnostics::{Diagnostic, codes};
use crate::execution::connect::warehouse_diagnostic;
use crate::execution::materialize::{counts_by_kind, mass_delete};
use crate::execution::run::relation_state;
use crate::warehouse::Warehouse;
use serde::Serialize;
use std::collections::BTreeMap;

/// What the next build of one sync table would do.
#[derive(Debug, Clone, Serialize)]
pub struct TablePlan {
    /// The model.
    pub model: String,
    /// Its relation.
    pub relation: String,
    /// Its sync type.
    pub sync_type: SyncType,
    /// The table does not exist yet, or has no change tracking: every row
    /// is new.
    pub first_build: bool,
    /// Rows whose key the table does not hold: sent by the next sync.
    pub new: u64,
    /// Rows whose key the table holds with other content: sent.
    pub changed: u64,
    /// Rows as they are: not sent.
    pub unchanged: u64,
    /// Keys that would vanish: tombstones, sent by the delete sync (when
    /// the model has deletes).
    pub deleted: u64,
    /// The live keys of the table as it is.
    pub previous: u64,
    /// Whether the model's tombstones feed a delete sync.
    pub deletes: bool,
    /// Why the build would fail the mass-delete guard, when it would.
    pub mass_delete: Option<String>,
    /// The models it reads, as they are built now: the plan is that of the
    /// next build only once they hold what they will (build them first).
    pub reads_models: Vec<String>,
    /// Up to `--rows` keys of each kind (`new`, `changed`, `unchanged`,
    /// `deleted`), as the key column `__cio_sql_key` holds them.
    pub samples: BTreeMap<String, Vec<String>>,
}

/// The plan of each selected change-tracked sync model of `c`, in the
/// selection's order, read through `wh`, with up to `rows` sample keys of
/// each kind. A model whose plan failed has its error instead.
pub fn plan(
    c: &Compilation,
    wh: &dyn Warehouse,
    rows: usize,
) -> Vec<Result<TablePlan, Diagnostic>> {
    let quoting = c.project.config.quoting;
    let target = &c.project.target.name;
    let mut out = Vec::new();
    for m in c.selected_models() {
        if m.status != ModelStatus::Success {
            continue;
        }
        let tracking = match tracking_of(m) {
            Ok(Some(t)) => t,
            Ok(None) => continue,
            Err(d) => {
                out.push(Err(d));
                continue;
            }
        };
        let relation = m.relation.sql(quoting);
        let sql = m.sql().unwrap_or_default();
        let sql = sql.strip_suffix(';').unwrap_or(&sql).trim_end();
        let failed = |e: &crate::warehouse::WarehouseError| {
            warehouse_diagnostic(e, target)
                .for_model(&m.name)
                .with_help(format!(
                    "{} could not be compared with the model's rows; nothing was changed",
                    relation
                ))
        };
        let state = match relation_state(wh, &m.relation) {
            Ok(state) => state,
            Err(e) => {
                let mut d = failed(&e);
                d.code = codes::TRACKING_STATE;
                out.push(Err(d));
                continue;
            }
        };
        let previous = state.tracked();
        let counts = match wh.query(&tracking.diff_counts_sql(&relation, sql, previous)) {
            Ok(found) => counts_by_kind(&found),
            Err(e) => {
                out.push(Err(failed(&e)));
                continue;
            }
        };
        let mut samples: BTreeMap<String, Vec<String>> = BTreeMap::new();
        if rows > 0 {
            match wh.query(&tracking.diff_sample_sql(&relation, sql, previous, rows)) {
                Ok(found) => {
                    for r in &found.rows {
                        if let (Some(kind), Some(key)) = (
                            r.first().and_then(|v| v.as_str()),
                            r.get(1).and_then(|v| v.as_str()),
                        ) {
                            samples
                                .entry(kind.to_string())
                                .or_default()
                                .push(key.to_string());
                        }
                    }
                }
                Err(e) => {
                    out.push(Err(failed(&e)));
                    continue;
                }
            }
        }
        let n = |kind: &str| counts.get(kind).copied().unwrap_or(0);
        out.push(Ok(TablePlan {
            model: m.name.clone(),
            relation,
            sync_type: tracking.sync_type,
            first_build: !previous,
            new: n("new"),
            changed: n("changed"),
            unchanged: n("unchanged"),
            deleted: n("deleted"),
            previous: n("previous"),
            deletes: tracking.deletes,
            mass_delete: mass_delete(&counts, tracking.max_delete_share),
            reads_models: c
                .dag
                .parents(&m.name)
                .into_iter()
                // Seeds are DAG nodes too; `cio-sql seed` loads them.
                .filter(|p| c.model(p).is_some())
                .map(str::to_string)
                .collect(),
            samples,
        }));
    }
    out
}

/// One table's plan as text.
pub fn render(p: &TablePlan) -> String {
    let mut out = format!(
        "{} ({}, {}){}\n  new {}, changed {}, unchanged {}, deleted {}\n  the next sync sends {} row(s){}\n",
        p.model,
        p.sync_type,
        p.relation,
        if p.first_build {
            ": first build, every row is new"
        } else {
            ""
        },
        p.new,
        p.changed,
        p.unchanged,
        p.deleted,
        p.new + p.changed,
        if p.deletes {
            format!(" and {} delete event(s)", p.deleted)
        } else if p.deleted > 0 {
            " (its deletes are not synced)".to_string()
        } else {
            String::new()
        }
    );
    for (kind, keys) in &p.samples {
        out.push_str(&format!("  {kind}: {}\n", keys.join("; ")));
    }
    if !p.reads_models.is_empty() {
        out.push_str(&format!(
            "  reads {} as built now (build them first for the plan of the next build)\n",
            p.reads_models.join(", ")
        ));
    }
    if let Some(why) = &p.mass_delete {
        out.push_str(&format!("  mass-delete guard: {why}\n"));
    }
    out
}
