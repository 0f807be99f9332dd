//! dbt's test configs that decide when a data test fails (`fail_calc`,
//! `warn_if`, `error_if`, `limit`) and whether its failing rows are stored
//! (`store_failures`, `store_failures_as`), read from a `.yml` test's
//! `config:` (or the same keys beside its arguments) or a singular test's
//! `config()`.
//!
//! dbt runs a test as `select <fail_calc> as failures, <fail_calc>
//! <warn_if> as should_warn, <fail_calc> <error_if> as should_error from
//! (<test> [limit <n>])`, defaults `count(*)`, `!= 0`, `!= 0`
//! (<https://docs.getdbt.com/reference/resource-configs/fail_calc>,
//! <https://docs.getdbt.com/reference/resource-configs/severity>). cio-sql
//! computes `failures` the same way in the warehouse and compares it in
//! Rust, so a condition is one comparison with a number (`> 10`, `>= 5`,
//! `!= 0`): anything else is refused at the test's line rather than pasted
//! into SQL.

use serde_json::{Map, Value};
use sqlparser::dialect::SnowflakeDialect;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::Token;

/// A comparison of the failure count with a number: `> 10`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Condition {
    op: Op,
    value: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Ne,
    Eq,
    Gt,
    Ge,
    Lt,
    Le,
}

impl Op {
    fn text(self) -> &'static str {
        match self {
            Op::Ne => "!=",
            Op::Eq => "=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Lt => "<",
            Op::Le => "<=",
        }
    }
}

impl Condition {
    /// dbt's default: any failing row.
    pub const ANY: Condition = Condition {
        op: Op::Ne,
        value: 0.0,
    };

    /// Reads `> 10`, `>=5`, `!= 0`, `<> 0`, `== 3`, `=3`.
    pub fn parse(text: &str) -> Option<Condition> {
        let t = text.trim();
        let ops = [
            ("!=", Op::Ne),
            ("<>", Op::Ne),
            (">=", Op::Ge),
            ("<=", Op::Le),
            ("==", Op::Eq),
            ("=", Op::Eq),
            (">", Op::Gt),
            ("<", Op::Lt),
        ];
        let (rest, op) = ops
            .iter()
            .find_map(|(p, op)| t.strip_prefix(p).map(|rest| (rest, *op)))?;
        let number = rest.trim();
        let value: f64 = number.parse().ok()?;
        (value.is_finite() && !number.is_empty()).then_some(Condition { op, value })
    }

    /// Whether `failures` meets the condition.
    pub fn holds(self, failures: f64) -> bool {
        match self.op {
            Op::Ne => failures != self.value,
            Op::Eq => failures == self.value,
            Op::Gt => failures > self.value,
            Op::Ge => failures >= self.value,
            Op::Lt => failures < self.value,
            Op::Le => failures <= self.value,
        }
    }
}

impl std::fmt::Display for Condition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.op.text(), self.value)
    }
}

/// When a test fails and where its rows go.
#[derive(Debug, Clone, PartialEq)]
pub struct TestConfig {
    /// The aggregate over the failing rows that is the failure count.
    pub fail_calc: String,
    /// When the count makes a warning.
    pub warn_if: Condition,
    /// When the count makes an error (a test of severity `error` only).
    pub error_if: Condition,
    /// At most this many failing rows are read.
    pub limit: Option<u64>,
    /// The test's own `store_failures` (or `store_failures_as`); `None`:
    /// the run's `--store-failures`.
    pub store_failures: Option<bool>,
}

impl Default for TestConfig {
    fn default() -> Self {
        TestConfig {
            fail_calc: "COUNT(*)".into(),
            warn_if: Condition::ANY,
            error_if: Condition::ANY,
            limit: None,
            store_failures: None,
        }
    }
}

/// What is wrong with a config, and how to fix it.
pub type ConfigError = (String, String);

impl TestConfig {
    /// The config keys this module reads.
    pub const KEYS: [&'static str; 6] = [
        "fail_calc",
        "warn_if",
        "error_if",
        "limit",
        "store_failures",
        "store_failures_as",
    ];

    /// Reads the keys of [`TestConfig::KEYS`] in `map` (others are left to
    /// the caller).
    pub fn from_map(map: &Map<String, Value>) -> Result<TestConfig, ConfigError> {
        let mut c = TestConfig::default();
        let condition = |key: &str| -> Result<Option<Condition>, ConfigError> {
            match map.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Condition::parse(s).map(Some).ok_or_else(|| {
                    (
                        format!("{key} `{s}` is not a comparison with a number"),
                        format!("write {key}: \">10\" (or >=, <, <=, =, != with a number)"),
                    )
                }),
                Some(other) => Err((
                    format!("{key} is {other}, not a string"),
                    format!("write {key}: \">10\" (quoted: YAML reads >10 as text only in quotes)"),
                )),
            }
        };
        if let Some(w) = condition("warn_if")? {
            c.warn_if = w;
        }
        if let Some(e) = condition("error_if")? {
            c.error_if = e;
        }
        match map.get("fail_calc") {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) if is_expression(s) => c.fail_calc = s.trim().to_string(),
            Some(other) => {
                return Err((
                    format!("fail_calc {other} is not one SQL expression"),
                    "write an aggregate of the failing rows, e.g. fail_calc: \"sum(n_records)\""
                        .into(),
                ));
            }
        }
        match map.get("limit") {
            None | Some(Value::Null) => {}
            Some(v) => match v.as_u64() {
                Some(n) => c.limit = Some(n),
                None => {
                    return Err((
                        format!("limit {v} is not a whole number"),
                        "write limit: 100 (a whole number of rows)".into(),
                    ));
                }
            },
        }
        match map.get("store_failures") {
            None | Some(Value::Null) => {}
            Some(Value::Bool(b)) => c.store_failures = Some(*b),
            Some(other) => {
                return Err((
                    format!("store_failures is {other}, not true or false"),
                    "write store_failures: true".into(),
                ));
            }
        }
        // dbt: `store_failures_as` wins over `store_failures`
        // (<https://docs.getdbt.com/reference/resource-configs/store_failures_as>).
        match map.get("store_failures_as") {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) if s.eq_ignore_ascii_case("table") => {
                c.store_failures = Some(true)
            }
            Some(Value::String(s)) if s.eq_ignore_ascii_case("ephemeral") => {
                c.store_failures = Some(false)
            }
            Some(Value::String(s)) if s.eq_ignore_ascii_case("view") => {
                return Err((
                    "store_failures_as: view is not supported: cio-sql stores failing rows as tables"
                        .into(),
                    "write store_failures_as: table (or ephemeral, to store nothing)".into(),
                ));
            }
            Some(other) => {
                return Err((
                    format!("store_failures_as is {other}, not table or ephemeral"),
                    "write store_failures_as: table".into(),
                ));
            }
        }
        Ok(c)
    }

    /// The query counting the failures of test query `from` (a relation or
    /// a parenthesised query with its alias).
    pub fn count_query(&self, from: &str) -> String {
        format!("SELECT {} AS failures FROM {from}", self.fail_calc)
    }

    /// The test query `sql` under this config's `limit`.
    pub fn limited(&self, sql: &str) -> String {
        match self.limit {
            Some(n) => format!("SELECT * FROM (\n{sql}\n) AS dbt_limited LIMIT {n}"),
            None => sql.to_string(),
        }
    }

    /// How the test ends for `failures`, at `error` severity or not: `Some(true)`
    /// an error, `Some(false)` a warning, `None` a pass. dbt checks
    /// `error_if` only for a test of severity error.
    pub fn outcome(&self, failures: f64, error: bool) -> Option<bool> {
        if error && self.error_if.holds(failures) {
            Some(true)
        } else if self.warn_if.holds(failures) {
            Some(false)
        } else {
            None
        }
    }

    /// What the thresholds are, when they are not dbt's defaults.
    pub fn thresholds(&self, error: bool) -> Option<String> {
        let default = TestConfig::default();
        if self.warn_if == default.warn_if
            && self.error_if == default.error_if
            && self.fail_calc == default.fail_calc
        {
            return None;
        }
        let mut parts = Vec::new();
        if self.fail_calc != default.fail_calc {
            parts.push(format!("failures = {}", self.fail_calc));
        }
        if error {
            parts.push(format!("error if {}", self.error_if));
        }
        parts.push(format!("warn if {}", self.warn_if));
        Some(parts.join(", "))
    }
}

/// Whether `text` is exactly one SQL expression (Snowflake's dialect).
fn is_expression(text: &str) -> bool {
    let dialect = SnowflakeDialect {};
    let Ok(mut parser) = Parser::new(&dialect).try_with_sql(text) else {
        return false;
    };
    parser.parse_expr().is_ok() && parser.peek_token().token == Token::EOF
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn conditions_are_one_comparison_with_a_number() {
        let gt = Condition::parse(">10").unwrap();
        assert!(gt.holds(11.0) && !gt.holds(10.0));
        let ge = Condition::parse(" >= 5 ").unwrap();
        assert!(ge.holds(5.0) && !ge.holds(4.0));
        assert!(Condition::parse("<> 0").unwrap().holds(1.0));
        assert!(!Condition::parse("!=0").unwrap().holds(0.0));
        assert!(Condition::parse("== 3").unwrap().holds(3.0));
        assert!(Condition::parse("<2").unwrap().holds(1.0));
        assert!(Condition::parse("<=2").unwrap().holds(2.0));
        for bad in [
            "10",
            "> ten",
            ">",
            "> 1; drop table x",
            "between 1 and 2",
            "",
        ] {
            assert_eq!(Condition::parse(bad), None, "{bad}");
        }
        assert_eq!(Condition::parse(">= 5").unwrap().to_string(), ">= 5");
    }

    #[test]
    fn configs_are_read_with_dbts_defaults_and_refuse_bad_values() {
        let c = TestConfig::from_map(&Map::new()).unwrap();
        assert_eq!(c, TestConfig::default());
        assert_eq!(c.outcome(0.0, true), None);
        assert_eq!(c.outcome(1.0, true), Some(true));
        assert_eq!(c.outcome(1.0, false), Some(false));
        assert_eq!(c.thresholds(true), None);

        let c = TestConfig::from_map(&map(serde_json::json!({
            "error_if": ">10", "warn_if": ">=5", "fail_calc": "sum(n_records)",
            "limit": 3, "store_failures_as": "table"
        })))
        .unwrap();
        assert_eq!(c.outcome(4.0, true), None);
        assert_eq!(c.outcome(5.0, true), Some(false));
        assert_eq!(c.outcome(11.0, true), Some(true));
        assert_eq!(c.outcome(11.0, false), Some(false));
        assert_eq!(c.limit, Some(3));
        assert_eq!(c.store_failures, Some(true));
        assert_eq!(
            c.count_query("t"),
            "SELECT sum(n_records) AS failures FROM t"
        );
        assert_eq!(
            c.thresholds(true).unwrap(),
            "failures = sum(n_records), error if > 10, warn if >= 5"
        );
        assert!(c.limited("SELECT 1").ends_with("LIMIT 3"));

        for bad in [
            serde_json::json!({"error_if": "ten"}),
            serde_json::json!({"warn_if": 10}),
            serde_json::json!({"fail_calc": "count(*) from x; drop table y"}),
            serde_json::json!({"fail_calc": ""}),
            serde_json::json!({"limit": -1}),
            serde_json::json!({"limit": "5"}),
            serde_json::json!({"store_failures": "yes"}),
            serde_json::json!({"store_failures_as": "view"}),
            serde_json::json!({"store_failures_as": "tabel"}),
        ] {
            assert!(TestConfig::from_map(&map(bad.clone())).is_err(), "{bad}");
        }
        let off = TestConfig::from_map(&map(serde_json::json!({
            "store_failures": true, "store_failures_as": "ephemeral"
        })))
        .unwrap();
        assert_eq!(off.store_failures, Some(false));
    }
}
