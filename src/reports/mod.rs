//! Reports on a compilation: what to set up in Customer.io
//! ([`sync_query`]), where every output column comes from ([`lineage`]),
//! and the review of compiled SQL against the reviewed copies ([`review`]).
//! Each is a pure function of a [`crate::compile::Compilation`]; the CLI
//! prints it.

pub mod destination_setup;
pub mod lineage;
pub mod review;
pub mod sync_query;

use crate::diagnostics::Diagnostic;

/// Why a report on one model cannot be made.
#[derive(Debug, Clone)]
pub enum ReportError {
    /// No model has that name: the `CIO145` error, with the closest names.
    NoSuchModel(Diagnostic),
    /// The model exists but cannot be reported on (it does not compile, is
    /// disabled, or has no sync type): its errors.
    Unavailable(Vec<Diagnostic>),
}

impl ReportError {
    /// The diagnostics to show.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        match self {
            ReportError::NoSuchModel(d) => std::slice::from_ref(d),
            ReportError::Unavailable(ds) => ds,
        }
    }
}
