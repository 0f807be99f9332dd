//! `cio-sql sync-query [MODEL]`: what to set up in Customer.io.

use super::{ExitStatus, fatal};
use crate::compile::{CompileOptions, CompiledModel, ModelStatus};
use crate::pipeline;
use crate::report::{LogFormat, Output, print_out};
use crate::reports::ReportError;
use crate::reports::{
    self,
    sync_query::{edit_warning, notes, render_plan, render_setup},
};

/// `cio-sql sync-query [MODEL]`: compiles the project (without writing) and
/// prints the setup of `model`, or of every sync model in the initial sync
/// order. Exit code 0; 2 when the project does not load or `model` does not
/// exist; 1 when it has no sync type or a model failed to compile.
pub(super) fn sync_query(opts: &CompileOptions, model: Option<&str>, out: &Output) -> ExitStatus {
    let compilation = match pipeline::compile(&CompileOptions {
        write: false,
        select: Vec::new(),
        exclude: Vec::new(),
        ..opts.clone()
    }) {
        Ok(c) => c,
        Err(d) => return fatal(out, &d),
    };
    for d in &compilation.diagnostics {
        out.diagnostic(d);
    }
    if let Err(d) = crate::analysis::tracking::overlap_seconds(
        &compilation.project.vars,
        &crate::project::ModelConfig::default(),
    ) {
        return fatal(out, &d);
    }
    match reports::sync_query::sync_query(&compilation, model) {
        Ok(setups) => {
            match out.format {
                LogFormat::Text => match model {
                    Some(_) => setups.iter().for_each(|s| print_out(&render_setup(s))),
                    None => print_out(&render_plan(&compilation)),
                },
                LogFormat::Json => {
                    for (i, s) in setups.iter().enumerate() {
                        let mut value = serde_json::to_value(s).unwrap_or_default();
                        value["event"] = serde_json::json!("sync_query");
                        if model.is_none() {
                            value["order"] = serde_json::json!(i + 1);
                        }
                        value["notes"] = serde_json::json!(
                            std::iter::once(edit_warning(s.sync_type))
                                .chain(notes(s.sync_type))
                                .collect::<Vec<_>>()
                        );
                        print_out(&format!("{value}\n"));
                    }
                }
            }
            if model.is_none() {
                let failed: Vec<&CompiledModel> = compilation
                    .models
                    .iter()
                    .filter(|m| m.status == ModelStatus::Error)
                    .collect();
                for m in &failed {
                    for d in &m.diagnostics {
                        out.diagnostic(d);
                    }
                }
                if !failed.is_empty() || !compilation.succeeded() {
                    return ExitStatus::Failure;
                }
            }
            ExitStatus::Success
        }
        Err(e) => report_error(out, &e),
    }
}

/// Prints why a report on one model cannot be made: no such model is a
/// usage error, a model that cannot be reported on a failure.
pub(super) fn report_error(out: &Output, e: &ReportError) -> ExitStatus {
    for d in e.diagnostics() {
        out.diagnostic(d);
    }
    match e {
        ReportError::NoSuchModel(_) => ExitStatus::Error,
        ReportError::Unavailable(_) => ExitStatus::Failure,
    }
}
