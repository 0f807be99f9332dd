//! `cio-sql ls`: the selected models, one per line, in dependency order.

use super::{ExitStatus, fatal};
use crate::compile::CompileOptions;
use crate::pipeline;
use crate::report::{LogFormat, Output, print_out};

/// `cio-sql ls`: the selected models, one per line, in dependency order.
pub(super) fn ls(opts: &CompileOptions, out: &Output) -> ExitStatus {
    let compilation = match pipeline::compile(&CompileOptions {
        write: false,
        ..opts.clone()
    }) {
        Ok(c) => c,
        Err(d) => return fatal(out, &d),
    };
    for m in compilation.selected_models() {
        match out.format {
            LogFormat::Text => print_out(&format!(
                "{}\t{}\t{}\t{}\n",
                m.name,
                m.config.materialized(),
                m.relation,
                m.config.tags().join(",")
            )),
            LogFormat::Json => print_out(&format!(
                "{}\n",
                serde_json::json!({
                    "name": m.name,
                    "path": m.path,
                    "materialized": m.config.materialized(),
                    "relation": m.relation.to_string(),
                    "tags": m.config.tags(),
                    "depends_on": m.depends_on,
                })
            )),
        }
    }
    ExitStatus::Success
}
