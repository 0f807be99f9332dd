//! `cio-sql plan`: what the next build would change in each change-tracked
//! sync table, and so what the next sync would send. Changes nothing.

use super::{ExitStatus, fatal};
use crate::compile::CompileOptions;
use crate::execution::Connector;
use crate::execution::plan::{plan as plan_tables, render};
use crate::report::{LogFormat, Output, print_out};

/// `cio-sql plan`: compiles the project (without writing), connects, and
/// prints each selected sync table's plan. Exit code 0; 1 when a model
/// would trip the mass-delete guard, a plan failed or a model did not
/// compile; 2 when the project does not load.
pub(super) fn plan(
    opts: &CompileOptions,
    rows: usize,
    out: &Output,
    connect: &Connector,
) -> ExitStatus {
    let compilation = match super::compile_only(opts, out) {
        Ok(c) => c,
        Err(status) => return status,
    };
    for d in &compilation.diagnostics {
        out.diagnostic(d);
    }
    let mut ok = compilation.succeeded();
    for m in compilation.selected_models() {
        for d in m.diagnostics.iter().filter(|d| d.is_error()) {
            out.diagnostic(d);
            ok = false;
        }
    }
    let wh = match connect(&compilation.project) {
        Ok(w) => w,
        Err(d) => return fatal(out, &d),
    };
    let plans = plan_tables(&compilation, wh.as_ref(), rows);
    if plans.is_empty() {
        out.info(
            "no change-tracked sync table is selected (sync models built as tables, without cio_change_tracking=false)",
            false,
        );
    }
    for p in &plans {
        match p {
            Ok(p) => {
                if p.mass_delete.is_some() {
                    ok = false;
                }
                match out.format {
                    LogFormat::Text => print_out(&render(p)),
                    LogFormat::Json => {
                        let mut value = serde_json::to_value(p).unwrap_or_default();
                        value["event"] = serde_json::json!("plan");
                        out.event(value);
                    }
                }
            }
            Err(d) => {
                out.diagnostic(d);
                ok = false;
            }
        }
    }
    ExitStatus::failed_unless(ok)
}
