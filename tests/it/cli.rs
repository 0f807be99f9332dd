//! End to end through the `cio-sql` binary.

use crate::support::copy_dir;

use crate::support::TestProject;
use assert_cmd::Command;

fn cio() -> Command {
    Command::cargo_bin("cio-sql").unwrap()
}

#[test]
fn compiles_the_example_project() {
    let dir = tempfile::tempdir().unwrap();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for entry in ["dbt_project.yml", "profiles.yml", "catalog.yml"] {
        std::fs::copy(root.join(entry), dir.path().join(entry)).unwrap();
    }
    copy_dir(&root.join("models"), &dir.path().join("models"));
    let out = cio()
        .args(["compile", "--project-dir"])
        .arg(dir.path())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("0 failed"), "{stdout}");
    let sql = std::fs::read_to_string(
        dir.path()
            .join("target/compiled/models/identify/customer_io_persons.sql"),
    )
    .unwrap();
    assert!(
        sql.starts_with("SELECT\n    user_id AS \"userId\""),
        "{sql}"
    );
    assert!(dir.path().join("target/manifest.json").is_file());
}

#[test]
fn show_prints_sql_to_stdout_only() {
    let p = TestProject::new();
    p.model("people", "{{ nexus.customer_io_identify() }}");
    p.model("other", "select 1 as a");
    let out = cio()
        .args(["compile", "--show", "--select", "people", "--project-dir"])
        .arg(p.root())
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.starts_with("SELECT\n"), "{stdout}");
    assert!(!stdout.contains("Compiled"), "progress goes to stderr");
    assert!(String::from_utf8_lossy(&out.stderr).contains("Compiled 1 of 1"));
}

#[test]
fn failures_exit_1_and_keep_earlier_output() {
    let p = TestProject::new();
    p.model("people", "{{ nexus.customer_io_identify() }}");
    cio()
        .args(["compile", "--project-dir"])
        .arg(p.root())
        .assert()
        .success();
    let compiled = p.path("target/compiled/models/people.sql");
    let before = std::fs::read_to_string(&compiled).unwrap();
    p.model(
        "people",
        "{{ nexus.customer_io_identify(dedupe_column='nope') }}",
    );
    let out = cio()
        .args(["compile", "--project-dir"])
        .arg(p.root())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("error[CIO121]") && stderr.contains("models/people.sql:1:31"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(&compiled).unwrap(),
        before,
        "earlier output intact"
    );
}

#[test]
fn configuration_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = cio()
        .args(["compile", "--project-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no dbt_project.yml"));
}

#[test]
fn json_log_format_is_one_object_per_line() {
    let p = TestProject::new();
    p.model(
        "people",
        "{{ nexus.customer_io_identify(ignore_traits=['nope']) }}",
    );
    let out = cio()
        .args(["compile", "--log-format", "json", "--project-dir"])
        .arg(p.root())
        .output()
        .unwrap();
    assert!(out.status.success());
    let events: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    assert!(
        events
            .iter()
            .any(|e| e["event"] == "model" && e["name"] == "people" && e["status"] == "success")
    );
    assert!(
        events
            .iter()
            .any(|e| e["event"] == "diagnostic" && e["code"] == "CIO130" && e["line"] == 1)
    );
    assert!(
        events
            .iter()
            .any(|e| e["event"] == "summary" && e["warnings"] == 1)
    );
}

#[test]
fn help_lists_every_flag() {
    let out = cio().args(["compile", "--help"]).output().unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    for flag in [
        "--project-dir",
        "--profiles-dir",
        "--target",
        "--select",
        "--exclude",
        "--vars",
        "--catalog",
        "--show",
        "--warn-error",
        "--quiet",
        "--log-format",
    ] {
        assert!(help.contains(flag), "{flag} missing from help");
    }
}

#[test]
fn a_closed_stdout_is_not_a_panic() {
    let p = TestProject::new();
    for i in 0..50 {
        p.model(&format!("people_{i}"), "{{ nexus.customer_io_identify() }}");
    }
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("cio-sql"))
        .args(["compile", "--show", "--project-dir"])
        .arg(p.root())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // the reader goes away at once
    let out = child.wait_with_output().unwrap();
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("panicked"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
