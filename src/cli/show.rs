//! `cio-sql show MODEL`: a model's compiled SQL run with a limit, the rows
//! printed.

use super::{ExitStatus, fatal};
use crate::compile::CompileOptions;
use crate::diagnostics::Diagnostic;
use crate::diagnostics::codes;
use crate::execution::Connector;
use crate::execution::connect::warehouse_diagnostic;
use crate::execution::show::{ShowFormat, format_rows, preview_query};
use crate::pipeline;
use crate::report::{Output, print_out};

/// `cio-sql show`: runs a model's compiled SQL with a limit and prints rows.
pub(super) fn show(
    opts: &CompileOptions,
    model: &str,
    limit: usize,
    format: ShowFormat,
    out: &Output,
    connect: &Connector,
) -> ExitStatus {
    let compilation = match pipeline::compile(&CompileOptions {
        write: false,
        select: vec![model.to_string()],
        ..opts.clone()
    }) {
        Ok(c) => c,
        Err(d) => return fatal(out, &d),
    };
    let Some(m) = compilation.model(model) else {
        return fatal(
            out,
            &Diagnostic::error(codes::SELECTION, format!("no model is named {model}")),
        );
    };
    let Some(sql) = m
        .sql()
        .filter(|_| m.diagnostics.iter().all(|d| !d.is_error()))
    else {
        for d in &m.diagnostics {
            out.diagnostic(d);
        }
        return ExitStatus::Failure;
    };
    let wh = match connect(&compilation.project) {
        Ok(w) => w,
        Err(d) => {
            out.diagnostic(&d);
            return ExitStatus::Failure;
        }
    };
    let rows = match wh.query(&preview_query(&sql, limit)) {
        Ok(r) => r,
        Err(e) => {
            out.diagnostic(
                &warehouse_diagnostic(&e, &compilation.project.target.name).for_model(&m.name),
            );
            return ExitStatus::Failure;
        }
    };
    print_out(&format_rows(&rows, format));
    ExitStatus::Success
}
