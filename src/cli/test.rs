//! `cio-sql test` (and the data tests of `build`): its flags and the summary
//! line. The run itself is `cli/run.rs`'s, with `RunKind::Test`.

use super::args::TestArgs;
use crate::artifacts::run_results::{NodeResult, NodeStatus};
use crate::execution::data_test::TestOptions;
use crate::execution::run::{RunKind, RunOptions};

/// `run` with the data-test flags of `tests`.
pub(super) fn with_tests(run: RunOptions, tests: &TestArgs) -> RunOptions {
    RunOptions {
        tests: TestOptions {
            rows: tests.rows,
            store_failures: tests.store_failures,
        },
        ..run
    }
}

/// The counts of the summary line: `N passed, N failed, N warned` for
/// tests, `N succeeded, N failed, N skipped` for models and seeds, both
/// for a `build` that ran tests.
pub(super) fn summary(kind: RunKind, results: &[NodeResult]) -> String {
    let is_test = |r: &&NodeResult| r.materialized == "test";
    let count = |test: bool, s: NodeStatus| {
        results
            .iter()
            .filter(|r| is_test(r) == test && r.status == s)
            .count()
    };
    let tests = format!(
        "{} passed, {} failed, {} warned, {} errored, {} skipped",
        count(true, NodeStatus::Pass),
        count(true, NodeStatus::Fail),
        count(true, NodeStatus::Warn),
        count(true, NodeStatus::Error),
        count(true, NodeStatus::Skipped),
    );
    let nodes = format!(
        "{} succeeded, {} failed, {} skipped",
        count(false, NodeStatus::Success),
        count(false, NodeStatus::Error),
        count(false, NodeStatus::Skipped),
    );
    match kind {
        RunKind::Test => tests,
        RunKind::Build if results.iter().any(|r| is_test(&r)) => format!("{nodes}; tests: {tests}"),
        _ => nodes,
    }
}
