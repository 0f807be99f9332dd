//! `cio-sql lineage MODEL`: where every output column of a model comes from.

use super::sync_query::report_error;
use super::{ExitStatus, fatal};
use crate::compile::{CompileOptions, ModelStatus};
use crate::report::{Output, print_out};
use crate::reports::{self, lineage::render_text};

/// `cio-sql lineage MODEL`: compiles the project (writing nothing) and
/// prints the lineage of `model` as text, or as one JSON document with
/// `json`. Exit code 0; 2 when the project does not load or there is no
/// such model; 1 when the model does not compile or its columns cannot be
/// worked out (what is known is still printed).
pub(super) fn lineage(opts: &CompileOptions, model: &str, json: bool, out: &Output) -> ExitStatus {
    let (compilation, catalog) = match reports::lineage::compile_with_catalog(opts) {
        Ok(c) => c,
        Err(d) => return fatal(out, &d),
    };
    for d in &compilation.diagnostics {
        out.diagnostic(d);
    }
    match reports::lineage::lineage(&compilation, catalog.as_ref(), model) {
        Ok(l) => {
            let text = if json {
                serde_json::to_string_pretty(&l).unwrap_or_default() + "\n"
            } else {
                render_text(&l)
            };
            print_out(&text);
            if let Some(m) = compilation.model(model) {
                for d in &m.diagnostics {
                    out.diagnostic(d);
                }
            }
            ExitStatus::failed_unless(
                l.status != ModelStatus::Error && l.columns_unresolved.is_none(),
            )
        }
        Err(e) => report_error(out, &e),
    }
}
