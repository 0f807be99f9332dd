//! dbt parity (issue 14, "Must hold"): the dbt-style fixture project
//! `fixtures/dbt_parity` (models over seeds, folder config with and
//! without `+`, schema.yml with descriptions, a docs block and tests, an
//! ephemeral and two incremental models, `var()` and `target`) is built by
//! cio-sql on the emulator and by dbt-core with dbt-duckdb; every table
//! must hold the same rows (count and checksum of the sorted rows, computed
//! here the same way for both), after the first build and after a second,
//! incremental one.
//!
//! dbt-core and dbt-duckdb are installed from PyPI into a cached virtualenv
//! (`~/.cache/cio-sql/dbt-venv`, or `CIO_SQL_DBT_VENV`) by the test itself,
//! as fakesnow is; a failed install fails the test with its output.

use crate::support::emulator_cli::{SECRET, cio, connect, query};
use crate::support::{copy_dir, fakesnow};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// What the virtualenv installs: dbt-core 1.11 with its DuckDB adapter.
const DBT_REQUIREMENTS: &[&str] = &["dbt-core~=1.11.0", "dbt-duckdb~=1.11.0"];

/// The tables compared: the seeds and every model that builds one.
const TABLES: &[&str] = &[
    "raw_customers",
    "raw_orders",
    "stg_customers",
    "customers",
    "orders_incremental",
    "order_log",
];

/// The second run's orders: 10 gone (the incremental tables keep it), 13
/// changed and newer, 15 new.
const ORDERS_LATER: &str = "id,customer_id,amount,status,updated_at\n11,1,5,returned,2\n12,2,40,shipped,3\n13,3,18,placed,6\n14,3,12,shipped,5\n15,4,30,placed,7\n";

/// Runs a command, failing the test with its output when it fails.
fn run(what: &str, cmd: &mut Command) -> String {
    crate::support::venv::run("dbt parity", what, cmd)
}

/// The virtualenv with dbt-core and dbt-duckdb, installed if needed.
fn ensure_dbt() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        crate::support::venv::Venv {
            what: "dbt parity",
            env: "CIO_SQL_DBT_VENV",
            dir: "dbt-venv",
            import_check: "import dbt.adapters.duckdb, duckdb",
            requirements: DBT_REQUIREMENTS,
            python_note: "",
        }
        .ensure()
    })
    .clone()
}

/// A value written the same way whichever side it came from: numbers (or
/// strings holding one) in one form, booleans and NULL by name.
fn canonical(v: &Value) -> String {
    let number = |f: f64| {
        if f.fract() == 0.0 && f.abs() < 1e15 {
            format!("{}", f as i64)
        } else {
            format!("{f}")
        }
    };
    match v {
        Value::Null => "NULL".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => number(n.as_f64().unwrap_or_default()),
        Value::String(s) => match s.parse::<f64>() {
            Ok(f) => number(f),
            Err(_) => s.clone(),
        },
        other => other.to_string(),
    }
}

/// (row count, SHA-256 of the sorted rows, column names) of a table.
fn digest(columns: &[String], rows: &[Vec<Value>]) -> (usize, String, Vec<String>) {
    let mut lines: Vec<String> = rows
        .iter()
        .map(|r| r.iter().map(canonical).collect::<Vec<_>>().join("\u{1f}"))
        .collect();
    lines.sort();
    let hash = Sha256::digest(lines.join("\n").as_bytes());
    let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
    (
        rows.len(),
        hex,
        columns.iter().map(|c| c.to_lowercase()).collect(),
    )
}

type Digests = BTreeMap<String, (usize, String, Vec<String>)>;

fn cio_side(dir: &Path) -> Digests {
    let wh = connect(dir);
    TABLES
        .iter()
        .map(|t| {
            let rows = query(wh.as_ref(), &format!("SELECT * FROM PARITY.ANALYTICS.{t}"));
            (t.to_string(), digest(&rows.columns, &rows.rows))
        })
        .collect()
}

const DUMP: &str = r#"
import duckdb, json, sys
con = duckdb.connect(sys.argv[1], read_only=True)
out = {}
for t in sys.argv[2:]:
    cur = con.execute(f"select * from analytics.{t}")
    cols = [d[0] for d in cur.description]
    rows = [[v if v is None or isinstance(v, (bool, int, float, str)) else str(v) for v in r] for r in cur.fetchall()]
    out[t] = {"columns": cols, "rows": rows}
print(json.dumps(out))
"#;

fn dbt_side(venv: &Path, dir: &Path) -> Digests {
    let out = run(
        "reading the DuckDB tables",
        Command::new(venv.join("bin/python"))
            .args(["-c", DUMP])
            .arg(dir.join("parity.duckdb"))
            .args(TABLES),
    );
    let json: Value = serde_json::from_str(out.lines().next().unwrap_or_default())
        .unwrap_or_else(|e| panic!("dbt parity: the dump is not JSON ({e}): {out}"));
    TABLES
        .iter()
        .map(|t| {
            let columns: Vec<String> = json[t]["columns"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c.as_str().unwrap().to_string())
                .collect();
            let rows: Vec<Vec<Value>> = json[t]["rows"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r.as_array().unwrap().clone())
                .collect();
            (t.to_string(), digest(&columns, &rows))
        })
        .collect()
}

fn dbt_build(venv: &Path, dir: &Path) {
    run(
        "dbt build",
        Command::new(venv.join("bin/dbt"))
            .args(["build", "--project-dir"])
            .arg(dir)
            .arg("--profiles-dir")
            .arg(dir)
            .env("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
            .env("DO_NOT_TRACK", "1"),
    );
}

fn cio_build(dir: &Path) {
    let run = cio(dir, &["build"]);
    assert_eq!(
        run.code, 0,
        "cio-sql build:\n{}\n{}",
        run.stdout, run.stderr
    );
}

fn fixture(to: &Path) {
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/fixtures/dbt_parity"),
        to,
    );
}

#[test]
fn cio_sql_and_dbt_duckdb_build_the_same_tables() {
    let venv = ensure_dbt();
    let server = fakesnow::shared();
    let ours = tempfile::tempdir().unwrap();
    let theirs = tempfile::tempdir().unwrap();
    fixture(ours.path());
    fixture(theirs.path());
    // Both targets are named `parity`: the fixture reads target.name.
    std::fs::write(
        ours.path().join("profiles.yml"),
        format!(
            "parity:\n  target: parity\n  outputs:\n    parity:\n      type: snowflake\n      account: emulated\n      user: tester\n      password: \"{{{{ env_var('CIO_SQL_E2E_PASSWORD', 'x') }}}}\"\n      database: PARITY\n      schema: ANALYTICS\n      host: {}\n      emulator: fakesnow\n      threads: 2\n",
            server.base_url()
        ),
    )
    .unwrap();
    std::fs::write(
        theirs.path().join("profiles.yml"),
        format!(
            "parity:\n  target: parity\n  outputs:\n    parity:\n      type: duckdb\n      path: {}\n      schema: analytics\n      threads: 1\n",
            theirs.path().join("parity.duckdb").display()
        ),
    )
    .unwrap();
    assert!(!SECRET.is_empty());

    for round in ["first build", "second, incremental build"] {
        if round != "first build" {
            for dir in [ours.path(), theirs.path()] {
                std::fs::write(dir.join("seeds/raw_orders.csv"), ORDERS_LATER).unwrap();
            }
        }
        cio_build(ours.path());
        dbt_build(&venv, theirs.path());
        let (a, b) = (cio_side(ours.path()), dbt_side(&venv, theirs.path()));
        for t in TABLES {
            assert_eq!(a[*t], b[*t], "{round}: table {t} differs (cio-sql, dbt)");
        }
        eprintln!("dbt parity, {round}: {a:?}");
    }
    // The second build was incremental on both sides: order 10 is kept.
    let wh = connect(ours.path());
    let kept = query(
        wh.as_ref(),
        "SELECT COUNT(*) AS n FROM PARITY.ANALYTICS.orders_incremental WHERE order_id = 10",
    );
    assert_eq!(canonical(&kept.rows[0][0]), "1");
}
