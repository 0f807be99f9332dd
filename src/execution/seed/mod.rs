//! Seeds: CSV files under the seed paths, planned as SQL statements.
//!
//! A seed named like a catalog relation is loaded into that relation, typed
//! from the catalog (columns in catalog order; catalog columns the CSV lacks
//! are NULL). Any other seed goes to the target schema with types inferred
//! from its values. Loading is atomic: rows go into a scratch table first and
//! replace the real table in one `CREATE OR REPLACE TABLE … AS SELECT`.
//!
//! Every seed is read and planned on its own: a file that cannot be read, is
//! not valid CSV or holds a value its column type cannot take gives a
//! [`Diagnostic`] with the file and line, and the other seeds go on
//! ([`load::load_seeds`] makes it a failed node). Nothing here
//! indexes or slices user text in a way that can panic; a property test
//! (`tests/it/hardening_seeds.rs`) feeds the reader and planner arbitrary CSV.

pub mod load;
pub mod plan;
#[cfg(test)]
mod tests;

pub use load::{SeedsLoaded, load_seeds};
pub use plan::{
    Cleanup, SeedPlan, SeedStep, plan_seed, scratch_family, scratch_relation, seed_relation,
};

use crate::diagnostics::Diagnostic;
use crate::project::Project;
pub(crate) use crate::project::seeds::at;
pub use crate::project::seeds::{
    Seed, SeedFile, parse_seed, parse_seed_with, read_seed, read_seed_with,
};

/// Every `.csv` under the project's seed paths, sorted by path. A folder or
/// link that cannot be read is an error entry; the others are still found.
pub fn find_seeds(project: &Project) -> Vec<Result<SeedFile, Diagnostic>> {
    crate::project::seeds::find_seeds(&project.root, &project.config.seed_paths)
}

/// Rows per `INSERT` statement at most.
pub const INSERT_BATCH: usize = 500;

/// Bytes of row values per `INSERT` statement at most (a statement holds at
/// least one row). Snowflake asks for statements under 1 MB ("Limits on
/// Query Text Size", <https://docs.snowflake.com/en/user-guide/query-size-limits>).
pub const INSERT_BYTES: usize = 512 * 1024;

/// How every scratch table's name starts; then come a hash of the seed's
/// relation and a number of the load (see [`scratch_family`]).
pub const SCRATCH_PREFIX: &str = "CIO_SQL_SEED_LOAD_";
