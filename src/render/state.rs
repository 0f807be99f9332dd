//! What one model's render records: its config, refs and warnings.

use serde_json::{Map, Value};
use std::collections::HashMap;

/// A warning raised while rendering (by a macro or `exceptions.warn`).
#[derive(Debug, Clone)]
pub struct Warning {
    /// Stable code.
    pub code: crate::diagnostics::Code,
    /// What looks wrong.
    pub message: String,
    /// How to fix it.
    pub help: Option<String>,
    /// The macro call it came from: (macro, nth call of it in this render).
    pub call: Option<(String, usize)>,
}

/// Render-local state, kept as a minijinja state extension so that every
/// macro called during one model's render writes to the same place.
#[derive(Debug, Default)]
pub struct RenderState {
    /// Keys set with `config(...)`.
    pub config: Map<String, Value>,
    /// Models this render `ref()`ed, by name.
    pub refs: Vec<String>,
    /// The ephemeral models among them, in first-use order.
    pub ephemerals: Vec<String>,
    /// Catalog relations this render `ref()`ed or `source()`d (fully qualified).
    pub relations: Vec<String>,
    /// Warnings raised so far.
    pub warnings: Vec<Warning>,
    /// Lines passed to `log()`.
    pub logs: Vec<String>,
    /// The render read something besides its inputs (an environment
    /// variable), so its result cannot be reused.
    pub volatile: bool,
    /// The macro calls under way: (macro, nth call).
    pub calls: Vec<(String, usize)>,
    /// How often each macro has been called in this render.
    pub call_counts: HashMap<String, usize>,
}
