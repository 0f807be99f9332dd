//! `cio-sql catalog`: refreshes `catalog.yml` from the warehouse.

use super::{ExitStatus, fatal};
use crate::execution::Connector;
use crate::execution::catalog::refresh;
use crate::project::{LoadOptions, Project};
use crate::report::Output;

/// `cio-sql catalog`.
pub(super) fn catalog(opts: &LoadOptions, out: &Output, connect: &Connector) -> ExitStatus {
    let project = match Project::load(opts) {
        Ok(p) => p,
        Err(d) => return fatal(out, &d),
    };
    let refreshed = match refresh(&project, connect, &|d| out.diagnostic(d)) {
        Ok(r) => r,
        Err(d) => return fatal(out, &d),
    };
    out.info(
        &format!(
            "Wrote {} relation(s) to {} in {} ms ({} not found in the warehouse).",
            refreshed.written,
            refreshed
                .path
                .strip_prefix(&project.root)
                .unwrap_or(&refreshed.path)
                .display(),
            refreshed.elapsed_ms,
            refreshed.missing.len()
        ),
        false,
    );
    ExitStatus::Success
}
