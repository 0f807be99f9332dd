//! [`MockWarehouse`]: an in-memory [`Warehouse`] for tests that records
//! every statement and answers from a script.
//!
//! Test-only: compiled into the library's unit tests (`cfg(test)`) and,
//! through `#[path]`, into the integration tests (`tests/it/support`),
//! never into a build. It uses only `super::{Executed, Rows, Warehouse,
//! WarehouseError}`, which both places provide.
#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use serde_json::Value;

use super::{Executed, Rows, Warehouse, WarehouseError};

/// A scripted answer of [`MockWarehouse`].
#[derive(Debug, Clone, PartialEq)]
pub enum MockReply {
    /// Rows for `query` (for `execute`: the row count).
    Rows(Rows),
    /// Result of `execute` (for `query`: no rows).
    Executed(Executed),
    /// A failure returned by either method.
    Error(WarehouseError),
}

impl MockReply {
    /// Rows with the given column names.
    pub fn rows<S: Into<String>>(
        columns: impl IntoIterator<Item = S>,
        rows: Vec<Vec<Value>>,
    ) -> Self {
        Self::Rows(Rows {
            columns: columns.into_iter().map(Into::into).collect(),
            rows,
            query_id: None,
        })
    }

    /// A successful statement that affected `rows` rows.
    pub fn executed(rows: u64) -> Self {
        Self::Executed(Executed {
            query_id: None,
            rows: Some(rows),
        })
    }

    /// A Snowflake SQL error with the given code and message.
    pub fn sql_error(code: &str, message: &str) -> Self {
        Self::Error(WarehouseError::Sql {
            code: code.to_owned(),
            sql_state: None,
            message: message.to_owned(),
            query_id: None,
        })
    }
}

#[derive(Debug)]
struct Rule {
    /// Lower-cased fragment the statement must contain.
    needle: String,
    reply: MockReply,
    /// Remaining uses; `None` means unlimited.
    remaining: Option<usize>,
}

#[derive(Debug, Default)]
struct State {
    statements: Vec<String>,
    rules: Vec<Rule>,
}

/// A [`Warehouse`] that sends nothing anywhere.
///
/// Every statement passed to [`Warehouse::execute`] or [`Warehouse::query`]
/// is recorded in order. Replies come from rules added with
/// [`MockWarehouse::on`] (every match) and [`MockWarehouse::once`] (first
/// match only): the first rule, in the order added, whose fragment the
/// statement contains (case-insensitively) and that has uses left answers.
/// Without a matching rule, `execute` succeeds with no row count and `query`
/// returns no columns and no rows.
///
/// It is `Send + Sync`; statements sent from several threads are recorded
/// in the order they arrive.
#[derive(Debug, Default)]
pub struct MockWarehouse {
    state: Mutex<State>,
    /// How long each statement takes (see [`MockWarehouse::slow`]).
    delay: Mutex<Option<Duration>>,
    /// Statements running now, and the most that ran at once.
    in_flight: AtomicUsize,
    most_in_flight: AtomicUsize,
}

impl MockWarehouse {
    /// An empty mock with no rules.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic in another test thread must not hide the recording.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn add(&self, fragment: &str, reply: MockReply, remaining: Option<usize>) -> &Self {
        self.lock().rules.push(Rule {
            needle: fragment.to_lowercase(),
            reply,
            remaining,
        });
        self
    }

    /// Answers every statement containing `fragment` with `reply`.
    pub fn on(&self, fragment: &str, reply: MockReply) -> &Self {
        self.add(fragment, reply, None)
    }

    /// Answers the next statement containing `fragment` with `reply`, once.
    pub fn once(&self, fragment: &str, reply: MockReply) -> &Self {
        self.add(fragment, reply, Some(1))
    }

    /// Makes every statement take `delay`, so that statements sent from
    /// several threads overlap (see [`MockWarehouse::most_at_once`]).
    pub fn slow(&self, delay: Duration) -> &Self {
        *self.delay.lock().unwrap_or_else(|e| e.into_inner()) = Some(delay);
        self
    }

    /// The most statements that were running at the same time.
    pub fn most_at_once(&self) -> usize {
        self.most_in_flight.load(Ordering::SeqCst)
    }

    /// Every statement received so far, in order.
    pub fn statements(&self) -> Vec<String> {
        self.lock().statements.clone()
    }

    /// How many statements were received.
    pub fn count(&self) -> usize {
        self.lock().statements.len()
    }

    /// How many received statements contain `fragment` (case-insensitively).
    pub fn count_containing(&self, fragment: &str) -> usize {
        let needle = fragment.to_lowercase();
        self.lock()
            .statements
            .iter()
            .filter(|s| s.to_lowercase().contains(&needle))
            .count()
    }

    /// Forgets the recorded statements (rules are kept).
    pub fn clear_statements(&self) {
        self.lock().statements.clear();
    }

    fn answer(&self, sql: &str) -> Option<MockReply> {
        let delay = *self.delay.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(delay) = delay {
            let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            self.most_in_flight.fetch_max(now, Ordering::SeqCst);
            std::thread::sleep(delay);
            self.in_flight.fetch_sub(1, Ordering::SeqCst);
        }
        let mut state = self.lock();
        state.statements.push(sql.to_owned());
        let lower = sql.to_lowercase();
        let rule = state
            .rules
            .iter_mut()
            .find(|r| r.remaining != Some(0) && lower.contains(&r.needle))?;
        if let Some(n) = rule.remaining.as_mut() {
            *n -= 1;
        }
        Some(rule.reply.clone())
    }
}

impl Warehouse for MockWarehouse {
    fn execute(&self, sql: &str) -> Result<Executed, WarehouseError> {
        match self.answer(sql) {
            None => Ok(Executed::default()),
            Some(MockReply::Executed(e)) => Ok(e),
            Some(MockReply::Rows(r)) => Ok(Executed {
                query_id: r.query_id,
                rows: Some(r.rows.len() as u64),
            }),
            Some(MockReply::Error(e)) => Err(e),
        }
    }

    fn query(&self, sql: &str) -> Result<Rows, WarehouseError> {
        match self.answer(sql) {
            None => Ok(Rows::default()),
            Some(MockReply::Rows(r)) => Ok(r),
            Some(MockReply::Executed(e)) => Ok(Rows {
                query_id: e.query_id,
                ..Rows::default()
            }),
            Some(MockReply::Error(e)) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn records_and_answers_by_rule() {
        let mock = MockWarehouse::new();
        mock.once(
            "drop table",
            MockReply::sql_error("002003", "does not exist"),
        )
        .on("select", MockReply::rows(["A"], vec![vec![json!(1)]]))
        .on("insert", MockReply::executed(7));

        let err = mock.execute("DROP TABLE x").unwrap_err();
        assert!(matches!(err, WarehouseError::Sql { ref code, .. } if code == "002003"));
        // The `once` rule is used up: the default answer follows.
        assert_eq!(mock.execute("drop table x").unwrap(), Executed::default());
        assert_eq!(mock.query("SELECT 1").unwrap().rows, vec![vec![json!(1)]]);
        assert_eq!(
            mock.execute("insert into t values (1)").unwrap().rows,
            Some(7)
        );
        assert_eq!(mock.execute("select 2").unwrap().rows, Some(1));
        assert_eq!(
            mock.query("create table t (a int)").unwrap(),
            Rows::default()
        );

        assert_eq!(mock.count(), 6);
        assert_eq!(mock.count_containing("Drop Table"), 2);
        assert_eq!(mock.statements()[0], "DROP TABLE x");
        mock.clear_statements();
        assert_eq!(mock.count(), 0);
    }

    #[test]
    fn usable_from_several_threads() {
        let mock = MockWarehouse::new();
        std::thread::scope(|s| {
            for t in 0..4 {
                let mock = &mock;
                s.spawn(move || {
                    for i in 0..25 {
                        mock.execute(&format!("select {t}, {i}")).unwrap();
                    }
                });
            }
        });
        assert_eq!(mock.count(), 100);
    }
}
