//! The run scheduler: runs the nodes of a run (seeds, models, data tests)
//! in dependency order, up to `threads` at once.
//!
//! A run is a list of [`Node`]s, each with its id, kind and the nodes it
//! depends on; a [`NodeRunner`] knows how to run one. A node starts when
//! every node it depends on is done; it is skipped, with the reason, when
//! one of them did not succeed, when it is blocked from the start (a seed
//! it reads did not load), or when `fail_fast` stopped the run after a
//! failure. Each node's result is reported as it finishes.
//!
//! Nothing here panics on odd input: no threads asked for, no node, nodes
//! on a cycle (skipped); a lock poisoned by a panicking worker is taken
//! over, and a panic while running one node becomes that node's error.

use crate::artifacts::run_results::{NodeResult, NodeStatus};
use std::collections::HashMap;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

/// What a node is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    /// A CSV file loaded into a table.
    Seed,
    /// A model built as a view or a table.
    Model,
    /// A data test: a query whose rows are failures.
    Test,
}

impl NodeKind {
    /// The word for it in messages (`model`, `seed`).
    pub fn word(self) -> &'static str {
        match self {
            NodeKind::Seed => "seed",
            NodeKind::Model => "model",
            NodeKind::Test => "test",
        }
    }

    /// What a node of this kind that did not succeed did not do, in
    /// messages (`build`, `pass`).
    fn verb(self) -> &'static str {
        match self {
            NodeKind::Seed | NodeKind::Model => "build",
            NodeKind::Test => "pass",
        }
    }
}

/// One node of a run, as the scheduler sees it.
#[derive(Debug, Clone)]
pub struct Node {
    /// Its unique id (`model.<project>.<name>`, `seed.<project>.<name>`).
    pub id: String,
    /// Its name, in messages.
    pub name: String,
    /// What it is.
    pub kind: NodeKind,
    /// The nodes (indices into the run's list) that must finish first.
    pub deps: Vec<usize>,
}

/// How the nodes of a run are scheduled.
#[derive(Debug, Clone, Default)]
pub struct ScheduleOptions {
    /// Nodes run at once (at least 1).
    pub threads: usize,
    /// Stop scheduling after the first failure: the nodes not started are
    /// skipped.
    pub fail_fast: bool,
    /// The run starts stopped (fail-fast after a failure before it): every
    /// node is skipped.
    pub stopped: bool,
    /// Nodes skipped from the start, with why (index → reason).
    pub blocked: HashMap<usize, String>,
}

/// Runs one node of a run.
pub trait NodeRunner: Sync {
    /// The result of node `i` before it runs: its id, name, relation and
    /// kind, status [`NodeStatus::Success`].
    fn start(&self, i: usize) -> NodeResult;
    /// Runs node `i`, recording its outcome in `result`.
    fn run(&self, i: usize, result: &mut NodeResult);
}

/// Locks `m`, taking the data over if a worker panicked while holding it:
/// the scheduler's state is changed in single steps, so it stays whole.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

struct State {
    /// Nodes not started yet, in list order.
    pending: Vec<usize>,
    running: usize,
    done: HashMap<usize, NodeStatus>,
    stop: bool,
}

/// Why node `i` must be skipped now that its dependencies are done, if it
/// must.
fn skip_reason(
    nodes: &[Node],
    i: usize,
    s: &State,
    blocked: &HashMap<usize, String>,
) -> Option<String> {
    if s.stop {
        return Some("skipped: --fail-fast stopped the run after a failure".to_string());
    }
    if let Some(why) = blocked.get(&i) {
        return Some(why.clone());
    }
    let failed: Vec<&Node> = nodes[i]
        .deps
        .iter()
        .filter(|d| !s.done.get(d).is_some_and(|st| st.is_ok()))
        .map(|&d| &nodes[d])
        .collect();
    let first = failed.first()?;
    let names: Vec<&str> = failed.iter().map(|n| n.name.as_str()).collect();
    Some(format!(
        "skipped: upstream {} {} did not {}",
        first.kind.word(),
        names.join(", "),
        first.kind.verb()
    ))
}

/// Runs `nodes` with `runner`. `report` is called as each node finishes
/// (from worker threads, one at a time) with its result, how many nodes
/// finished and how many there are; the results, in the order they
/// finished, are returned too.
pub fn run_nodes(
    nodes: &[Node],
    opts: &ScheduleOptions,
    runner: &dyn NodeRunner,
    report: &(dyn Fn(&NodeResult, usize, usize) + Sync),
) -> Vec<NodeResult> {
    let total = nodes.len();
    let state = Mutex::new(State {
        pending: (0..total).collect(),
        running: 0,
        done: HashMap::new(),
        stop: opts.stopped,
    });
    let wake = Condvar::new();
    let finished: Mutex<Vec<NodeResult>> = Mutex::new(Vec::new());

    let worker = || loop {
        // Pick a node whose dependencies are all done, or skip it.
        let next: Option<(usize, Option<String>)> = {
            let mut s = lock(&state);
            loop {
                if s.pending.is_empty() {
                    break None;
                }
                let ready = s
                    .pending
                    .iter()
                    .position(|&i| nodes[i].deps.iter().all(|d| s.done.contains_key(d)));
                // Nothing ready and nothing running: only nodes on a cycle
                // are left (models on one failed to compile).
                let (at, skip) = match ready {
                    Some(at) => (at, skip_reason(nodes, s.pending[at], &s, &opts.blocked)),
                    None if s.running == 0 => (0, Some("skipped: part of a ref() cycle".into())),
                    None => {
                        s = wake.wait(s).unwrap_or_else(PoisonError::into_inner);
                        continue;
                    }
                };
                let i = s.pending.remove(at);
                s.running += 1;
                break Some((i, skip));
            }
        };
        let Some((i, skip)) = next else {
            wake.notify_all();
            return;
        };
        let started = Instant::now();
        let mut result = runner.start(i);
        if let Some(reason) = skip {
            result.status = NodeStatus::Skipped;
            result.message = Some(reason);
        } else {
            let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let mut r = result.clone();
                runner.run(i, &mut r);
                r
            }));
            match ran {
                Ok(r) => result = r,
                Err(panic) => {
                    let what = panic
                        .downcast_ref::<&str>()
                        .map(|s| s.to_string())
                        .or_else(|| panic.downcast_ref::<String>().cloned())
                        .unwrap_or_default();
                    result.status = NodeStatus::Error;
                    result.message = Some(format!(
                        "internal error while building the {} (a bug in cio-sql; please report it): {what}",
                        nodes[i].kind.word()
                    ));
                }
            }
        }
        result.execution_time = started.elapsed().as_secs_f64();
        {
            let mut s = lock(&state);
            s.running = s.running.saturating_sub(1);
            if matches!(result.status, NodeStatus::Error | NodeStatus::Fail) && opts.fail_fast {
                s.stop = true;
            }
            s.done.insert(i, result.status);
            let mut f = lock(&finished);
            f.push(result.clone());
            // A failing progress printer must not take the run down.
            let done = f.len();
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                report(&result, done, total)
            }));
        }
        wake.notify_all();
    };
    std::thread::scope(|scope| {
        for _ in 0..opts.threads.clamp(1, total.max(1)) {
            scope.spawn(worker);
        }
    });
    finished
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    /// A runner that records the order nodes ran in, fails the nodes it is
    /// told to, and can take a while per node.
    #[derive(Default)]
    struct Fake {
        fail: HashSet<usize>,
        /// Nodes that end with this status (a test's pass, fail or warn).
        ends: HashMap<usize, NodeStatus>,
        panic_on: Option<usize>,
        delay: Option<Duration>,
        order: Mutex<Vec<usize>>,
        running: AtomicUsize,
        most: AtomicUsize,
    }

    impl NodeRunner for Fake {
        fn start(&self, i: usize) -> NodeResult {
            NodeResult {
                unique_id: format!("model.p.n{i}"),
                name: format!("n{i}"),
                relation: String::new(),
                materialized: "view".into(),
                status: NodeStatus::Success,
                execution_time: 0.0,
                rows: None,
                query_id: None,
                message: None,
                code: None,
                failures: None,
                sample: None,
            }
        }

        fn run(&self, i: usize, result: &mut NodeResult) {
            let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
            self.most.fetch_max(now, Ordering::SeqCst);
            if let Some(d) = self.delay {
                std::thread::sleep(d);
            }
            lock(&self.order).push(i);
            self.running.fetch_sub(1, Ordering::SeqCst);
            if self.panic_on == Some(i) {
                panic!("boom in n{i}");
            }
            if self.fail.contains(&i) {
                result.status = NodeStatus::Error;
                result.message = Some("failed".into());
            }
            if let Some(status) = self.ends.get(&i) {
                result.status = *status;
            }
        }
    }

    fn nodes(deps: &[&[usize]]) -> Vec<Node> {
        deps.iter()
            .enumerate()
            .map(|(i, d)| Node {
                id: format!("model.p.n{i}"),
                name: format!("n{i}"),
                kind: NodeKind::Model,
                deps: d.to_vec(),
            })
            .collect()
    }

    fn run(nodes: &[Node], opts: &ScheduleOptions, fake: &Fake) -> HashMap<String, NodeResult> {
        let reported = Mutex::new(Vec::new());
        let results = run_nodes(nodes, opts, fake, &|r, done, total| {
            assert_eq!(total, nodes.len());
            lock(&reported).push((r.name.clone(), done));
        });
        let reported = reported.into_inner().unwrap();
        assert_eq!(reported.len(), nodes.len(), "every node is reported once");
        assert!(
            reported
                .iter()
                .enumerate()
                .all(|(i, (_, done))| *done == i + 1)
        );
        results.into_iter().map(|r| (r.name.clone(), r)).collect()
    }

    fn threads(n: usize) -> ScheduleOptions {
        ScheduleOptions {
            threads: n,
            ..ScheduleOptions::default()
        }
    }

    #[test]
    fn dependencies_run_first() {
        // n0 <- n1 <- n2, n0 <- n3, n4 alone.
        let nodes = nodes(&[&[], &[0], &[1], &[0], &[]]);
        for t in [1, 2, 4] {
            let fake = Fake::default();
            let results = run(&nodes, &threads(t), &fake);
            assert!(results.values().all(|r| r.status == NodeStatus::Success));
            let order = fake.order.into_inner().unwrap();
            let at = |i: usize| order.iter().position(|&n| n == i).unwrap();
            assert!(at(0) < at(1) && at(1) < at(2) && at(0) < at(3), "{order:?}");
        }
    }

    #[test]
    fn a_failure_skips_its_dependents_and_the_rest_go_on() {
        let nodes = nodes(&[&[], &[0], &[1], &[]]);
        let fake = Fake {
            fail: HashSet::from([0]),
            ..Fake::default()
        };
        let r = run(&nodes, &threads(2), &fake);
        assert_eq!(r["n0"].status, NodeStatus::Error);
        assert_eq!(r["n1"].status, NodeStatus::Skipped);
        assert_eq!(
            r["n1"].message.as_deref(),
            Some("skipped: upstream model n0 did not build")
        );
        assert_eq!(
            r["n2"].message.as_deref(),
            Some("skipped: upstream model n1 did not build")
        );
        assert_eq!(r["n3"].status, NodeStatus::Success);
        assert_eq!(
            fake.order.into_inner().unwrap().len(),
            2,
            "n1, n2 never ran"
        );
    }

    #[test]
    fn a_failed_test_skips_its_dependents_and_a_warning_does_not() {
        // n0 (model) <- n1 (its test) <- n2 (a model after the test);
        // n3 (model) <- n4 (a test that warns) <- n5.
        let mut nodes = nodes(&[&[], &[0], &[0, 1], &[], &[3], &[3, 4]]);
        nodes[1].kind = NodeKind::Test;
        nodes[4].kind = NodeKind::Test;
        let fake = Fake {
            ends: HashMap::from([
                (1, NodeStatus::Fail),
                (4, NodeStatus::Warn),
                (3, NodeStatus::Success),
            ]),
            ..Fake::default()
        };
        let r = run(&nodes, &threads(2), &fake);
        assert_eq!(r["n1"].status, NodeStatus::Fail);
        assert_eq!(
            r["n2"].message.as_deref(),
            Some("skipped: upstream test n1 did not pass")
        );
        assert_eq!(
            r["n5"].status,
            NodeStatus::Success,
            "a warning skips nothing"
        );
        // A failed test stops a --fail-fast run.
        let fake = Fake {
            ends: HashMap::from([(1, NodeStatus::Fail)]),
            ..Fake::default()
        };
        let opts = ScheduleOptions {
            fail_fast: true,
            ..threads(1)
        };
        let r = run(&nodes, &opts, &fake);
        assert_eq!(r["n3"].status, NodeStatus::Skipped);
    }

    #[test]
    fn fail_fast_skips_every_node_not_started() {
        let nodes = nodes(&[&[], &[], &[], &[]]);
        let fake = Fake {
            fail: HashSet::from([0]),
            ..Fake::default()
        };
        let opts = ScheduleOptions {
            threads: 1,
            fail_fast: true,
            ..ScheduleOptions::default()
        };
        let r = run(&nodes, &opts, &fake);
        assert_eq!(r["n0"].status, NodeStatus::Error);
        for n in ["n1", "n2", "n3"] {
            assert_eq!(r[n].status, NodeStatus::Skipped, "{n}");
            assert_eq!(
                r[n].message.as_deref(),
                Some("skipped: --fail-fast stopped the run after a failure")
            );
        }
        // Without it, the others run.
        let fake = Fake {
            fail: HashSet::from([0]),
            ..Fake::default()
        };
        let r = run(&nodes, &threads(1), &fake);
        assert_eq!(r["n3"].status, NodeStatus::Success);
    }

    #[test]
    fn blocked_and_stopped_runs_skip_with_the_reason() {
        let nodes = nodes(&[&[], &[0], &[]]);
        let opts = ScheduleOptions {
            threads: 2,
            blocked: HashMap::from([(0, "skipped: it reads seed `s`".to_string())]),
            ..ScheduleOptions::default()
        };
        let fake = Fake::default();
        let r = run(&nodes, &opts, &fake);
        assert_eq!(
            r["n0"].message.as_deref(),
            Some("skipped: it reads seed `s`")
        );
        assert_eq!(
            r["n1"].message.as_deref(),
            Some("skipped: upstream model n0 did not build")
        );
        assert_eq!(r["n2"].status, NodeStatus::Success);
        let stopped = ScheduleOptions {
            stopped: true,
            ..threads(2)
        };
        let fake = Fake::default();
        let r = run(&nodes, &stopped, &fake);
        assert!(r.values().all(|r| r.status == NodeStatus::Skipped));
        assert!(fake.order.into_inner().unwrap().is_empty());
    }

    #[test]
    fn threads_run_nodes_at_once_up_to_the_limit() {
        let nodes = nodes(&[&[], &[], &[], &[]]);
        let slow = || Fake {
            delay: Some(Duration::from_millis(40)),
            ..Fake::default()
        };
        let fake = slow();
        run(&nodes, &threads(4), &fake);
        assert!(
            fake.most.load(Ordering::SeqCst) >= 2,
            "nodes ran one at a time"
        );
        let fake = slow();
        run(&nodes, &threads(1), &fake);
        assert_eq!(fake.most.load(Ordering::SeqCst), 1);
        // No threads asked for: one; no node: nothing to do.
        let fake = Fake::default();
        run(&nodes, &threads(0), &fake);
        assert_eq!(fake.most.load(Ordering::SeqCst), 1);
        assert!(run_nodes(&[], &threads(4), &Fake::default(), &|_, _, _| {}).is_empty());
    }

    #[test]
    fn cycles_are_skipped_and_panics_are_errors() {
        let cycle = nodes(&[&[1], &[0], &[]]);
        let r = run(&cycle, &threads(2), &Fake::default());
        assert_eq!(
            r["n0"].message.as_deref(),
            Some("skipped: part of a ref() cycle")
        );
        assert_eq!(r["n1"].status, NodeStatus::Skipped);
        assert_eq!(r["n2"].status, NodeStatus::Success);
        let fake = Fake {
            panic_on: Some(0),
            ..Fake::default()
        };
        let r = run(&nodes(&[&[], &[0]]), &threads(1), &fake);
        assert_eq!(r["n0"].status, NodeStatus::Error);
        assert!(
            r["n0"].message.as_deref().unwrap().contains("boom in n0"),
            "{:?}",
            r["n0"].message
        );
        assert_eq!(r["n1"].status, NodeStatus::Skipped);
    }
}
