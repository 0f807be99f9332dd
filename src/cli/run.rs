//! `cio-sql seed`, `run` and `build`: the run, its summary line, and the
//! exit status. `target/run_results.json` is written however the run ends.

use super::{ExitStatus, fatal};
use crate::artifacts::run_results::RunRecorder;
use crate::compile::CompileOptions;
use crate::execution::Connector;
use crate::execution::run::{RunKind, RunOptions, run_steps};
use crate::report::Output;

/// `cio-sql seed` / `run` / `build`. Writes `target/run_results.json`
/// however the command ends (see [`RunRecorder`]); exit 0 success, 1 a node
/// failed or the run could not proceed for a runtime reason (the warehouse,
/// the run lock, the disk), 2 a usage or configuration error.
pub(super) fn run(
    kind: RunKind,
    opts: &CompileOptions,
    run: RunOptions,
    out: &Output,
    connect: &Connector,
) -> ExitStatus {
    let command = kind.command();
    let recorder = RunRecorder::start(command, &opts.load.project_dir);
    // The one exit: whatever stopped the steps is recorded, then the file
    // is written.
    let stopped = run_steps(kind, opts, run, out, connect, &recorder);
    let status = match &stopped {
        Ok(()) => ExitStatus::Success,
        Err(d) => {
            recorder.fail(&d.message);
            fatal(out, d)
        }
    };
    let (results, write_error) = match recorder.finish() {
        Ok(r) => (r, None),
        Err((r, d)) => (r, Some(d)),
    };
    // Unless it is the error that stopped the run (a target folder that
    // cannot be written fails both).
    if let Some(d) = &write_error
        && stopped
            .as_ref()
            .err()
            .is_none_or(|s| s.message != d.message)
    {
        out.diagnostic(d);
    }
    let shown = recorder
        .path()
        .map_or("not written (no project)".to_string(), |p| {
            p.display().to_string()
        });
    out.info(
        &format!(
            "Finished {command} in {:.2}s: {}. Results: {shown}",
            results.elapsed_time,
            super::test::summary(kind, &results.results),
        ),
        false,
    );
    out.event(serde_json::json!({"event": "summary", "command": command, "success": results.success, "elapsed_s": results.elapsed_time}));
    if status != ExitStatus::Success {
        status
    } else if let Some(d) = write_error {
        ExitStatus::of(&d)
    } else {
        ExitStatus::failed_unless(results.success)
    }
}
