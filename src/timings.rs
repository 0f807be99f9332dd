//! Phase timings for profiling: set `CIO_SQL_TIMINGS=1` and each compile
//! phase prints its wall time (and, on Linux, the resident memory) to
//! stderr. Off by default; then it costs one clock read per phase.

use std::time::Instant;

/// The environment variable that turns phase timings on.
pub const TIMINGS_ENV: &str = "CIO_SQL_TIMINGS";

/// Measures consecutive phases of one run.
#[derive(Debug)]
pub struct PhaseTimer {
    enabled: bool,
    started: Instant,
    last: Instant,
}

impl PhaseTimer {
    /// A timer that prints only when [`TIMINGS_ENV`] is set.
    pub fn from_env() -> Self {
        let now = Instant::now();
        PhaseTimer {
            enabled: std::env::var_os(TIMINGS_ENV).is_some(),
            started: now,
            last: now,
        }
    }

    /// Ends the current phase, named `label`, and starts the next one.
    pub fn lap(&mut self, label: &str) {
        if !self.enabled {
            return;
        }
        let now = Instant::now();
        crate::report::print_err(&format!(
            "[timings] {label:<12} {:>8.2} ms (total {:>8.2} ms){}\n",
            (now - self.last).as_secs_f64() * 1000.0,
            (now - self.started).as_secs_f64() * 1000.0,
            memory().unwrap_or_default()
        ));
        self.last = now;
    }
}

/// Resident and peak resident memory, from `/proc/self/status` (Linux only).
fn memory() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.trim().to_string())
    };
    Some(format!(
        "  rss {} peak {}",
        field("VmRSS:")?,
        field("VmHWM:")?
    ))
}
