//! Hardening (issue 10), the file side: review never deletes or overwrites a
//! file it did not write, run_results.json never goes stale, project paths
//! stay in the project, temporary files do not outlive a run, one compile
//! at a time writes target/, a failed write to stdout is an error and not
//! a panic, and the errors around all of this name the file and the fix.
//! Each test is named after its item of the issue.

use crate::support::TestProject;
use assert_cmd::Command;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

fn cio_in(dir: &Path, args: &[&str]) -> Out {
    let out = Command::cargo_bin("cio-sql")
        .unwrap()
        .args(args)
        .arg("--project-dir")
        .arg(dir)
        .env("NO_COLOR", "1")
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    let out = Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(
        !out.stderr.contains("panicked") && !out.stdout.contains("panicked"),
        "cio-sql panicked:\n{}",
        out.stderr
    );
    out
}

fn cio(p: &TestProject, args: &[&str]) -> Out {
    cio_in(p.root(), args)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every file below `dir` (links not followed), relative, with its text.
fn snapshot(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut files = Vec::new();
    for entry in walk(dir) {
        if entry.is_file() {
            files.push((
                entry.strip_prefix(dir).unwrap().to_path_buf(),
                std::fs::read_to_string(&entry).unwrap_or_default(),
            ));
        }
    }
    files.sort();
    files
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if entry.file_type().unwrap().is_dir() {
            out.extend(walk(&path));
        }
        out.push(path);
    }
    out
}

/// A project with two models, a macro, a seed and a test file.
fn project() -> TestProject {
    let p = TestProject::new();
    p.model("people", "{{ nexus.customer_io_identify() }}");
    p.model("sub/base", "select 1 as a");
    p.file("macros/helpers.sql", "{% macro one() %}1{% endmacro %}\n");
    p.file("seeds/things.csv", "id\n1\n");
    p.file("tests/check.sql", "select 1 where false\n");
    p
}

// ---------------------------------------------------------------- item 1

#[test]
fn item01_review_accept_refuses_dir_outside_project() {
    // A parent folder holding the project and a sibling project.
    let parent = tempfile::tempdir().unwrap();
    let root = parent.path().join("proj");
    let sibling = parent.path().join("sibling");
    std::fs::create_dir_all(root.join("models")).unwrap();
    std::fs::create_dir_all(sibling.join("models")).unwrap();
    std::fs::write(root.join("dbt_project.yml"), "name: p\n").unwrap();
    std::fs::write(root.join("models/m.sql"), "select 1 as a").unwrap();
    std::fs::write(sibling.join("models/theirs.sql"), "select 'theirs'").unwrap();
    std::fs::write(parent.path().join("loose.sql"), "select 'loose'").unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    std::fs::write(elsewhere.path().join("keep.sql"), "select 'keep'").unwrap();
    let before = (snapshot(parent.path()), snapshot(elsewhere.path()));
    let elsewhere_arg = elsewhere.path().to_str().unwrap().to_string();
    for dir in ["..", "../sibling", elsewhere_arg.as_str()] {
        let out = cio_in(&root, &["review", "--accept", "--dir", dir]);
        assert_eq!(out.code, 2, "--dir {dir}: {}", out.stderr);
        assert!(
            out.stderr.contains("CIO021") && out.stderr.contains("outside the project folder"),
            "--dir {dir}: {}",
            out.stderr
        );
    }
    assert_eq!(
        (snapshot(parent.path()), snapshot(elsewhere.path())),
        before,
        "nothing was written or removed"
    );
}

#[test]
fn item01_review_accept_refuses_dir_containing_models() {
    let p = project();
    let before = snapshot(p.root());
    for dir in [".", "./", "sub/.."] {
        let out = cio(&p, &["review", "--accept", "--dir", dir]);
        assert_eq!(out.code, 2, "--dir {dir}: {}", out.stderr);
        assert!(
            out.stderr.contains("CIO021") && out.stderr.contains("the project folder itself"),
            "{}",
            out.stderr
        );
    }
    // A folder that holds the model folder.
    let nested = project();
    nested.file(
        "dbt_project.yml",
        "name: test_project\nmodel-paths: [\"src/models\"]\n",
    );
    nested.file("src/models/m.sql", "select 1 as a");
    let out = cio(&nested, &["review", "--accept", "--dir", "src"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("contains the model-paths folder `src/models`"),
        "{}",
        out.stderr
    );
    assert_eq!(read(&nested.path("src/models/m.sql")), "select 1 as a");
    assert_eq!(snapshot(p.root()), before, "model sources untouched");
}

#[test]
fn item01_review_accept_refuses_dir_inside_models() {
    let p = project();
    let before = snapshot(p.root());
    for (dir, what) in [
        ("models", "is the model-paths folder `models`"),
        ("models/sub", "is inside the model-paths folder `models`"),
        ("macros", "the macro-paths folder"),
        ("seeds", "the seed-paths folder"),
        ("tests", "the test-paths folder"),
        ("target", "the target folder"),
    ] {
        let out = cio(&p, &["review", "--accept", "--dir", dir]);
        assert_eq!(out.code, 2, "--dir {dir}: {}", out.stderr);
        assert!(out.stderr.contains(what), "--dir {dir}: {}", out.stderr);
    }
    assert_eq!(snapshot(p.root()), before, "model sources untouched");
}

#[cfg(unix)]
#[test]
fn item01_review_accept_refuses_symlinked_dir_to_models() {
    let p = project();
    std::os::unix::fs::symlink(p.path("models"), p.path("reviewed_link")).unwrap();
    let before = snapshot(&p.path("models"));
    let out = cio(&p, &["review", "--accept", "--dir", "reviewed_link"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("CIO021") && out.stderr.contains("model-paths folder"),
        "{}",
        out.stderr
    );
    // A link inside the reviewed folder that leads into the models.
    std::fs::create_dir_all(p.path("reviewed")).unwrap();
    std::os::unix::fs::symlink(p.path("models"), p.path("reviewed/models")).unwrap();
    let out = cio(&p, &["review", "--accept"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("through a symbolic link"),
        "{}",
        out.stderr
    );
    assert_eq!(snapshot(&p.path("models")), before, "models untouched");
}

#[test]
fn item01_review_accept_keeps_files_it_did_not_write() {
    let p = project();
    assert_eq!(cio(&p, &["review", "--accept"]).code, 0);
    let index = read(&p.path("reviewed/.cio-sql-review-index.json"));
    assert!(
        index.contains("\"models/people.sql\"") && index.contains("\"models/sub/base.sql\""),
        "{index}"
    );
    // The user's own files in the reviewed folder, and a model removed.
    p.file("reviewed/notes.sql", "-- my notes\n");
    p.file("reviewed/models/hand_written.sql", "select 'mine'\n");
    std::fs::remove_file(p.path("models/sub/base.sql")).unwrap();
    let out = cio(&p, &["review"]);
    assert_eq!(out.code, 1, "an orphan is a difference: {}", out.stdout);
    assert!(
        out.stdout.contains("orphaned reviewed/models/sub/base.sql")
            && out.stdout.contains("untracked reviewed/notes.sql")
            && out
                .stdout
                .contains("untracked reviewed/models/hand_written.sql"),
        "{}",
        out.stdout
    );
    let out = cio(&p, &["review", "--accept"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(
        !p.path("reviewed/models/sub/base.sql").exists(),
        "the orphan review wrote is removed"
    );
    assert_eq!(read(&p.path("reviewed/notes.sql")), "-- my notes\n");
    assert_eq!(
        read(&p.path("reviewed/models/hand_written.sql")),
        "select 'mine'\n"
    );
    assert!(
        out.stdout.contains("were not written by cio-sql review"),
        "{}",
        out.stdout
    );
    // Untracked files do not fail a review.
    assert_eq!(cio(&p, &["review"]).code, 0);
}

#[test]
fn item01_review_index_cannot_lead_outside_the_reviewed_dir() {
    let p = project();
    p.file("reviewed/.cio-sql-review-index.json", "{\"written_by\": \"x\", \"files\": [\"../models/people.sql\", \"/etc/passwd.sql\", \"models/../../models/sub/base.sql\", \"../dbt_project.yml\"]}");
    let before = snapshot(&p.path("models"));
    let out = cio(&p, &["review", "--accept"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(snapshot(&p.path("models")), before);
    assert!(p.path("dbt_project.yml").exists());
    let index = read(&p.path("reviewed/.cio-sql-review-index.json"));
    assert!(!index.contains(".."), "bad entries are dropped: {index}");
}

#[test]
fn item01_review_hint_repeats_dir() {
    let p = project();
    let out = cio(&p, &["review", "--dir", "sql/reviewed"]);
    assert_eq!(out.code, 1);
    assert!(
        out.stdout
            .contains("run `cio-sql review --accept --dir sql/reviewed`"),
        "{}",
        out.stdout
    );
    let out = cio(&p, &["review"]);
    assert!(
        out.stdout.contains("run `cio-sql review --accept`."),
        "{}",
        out.stdout
    );
}

// ---------------------------------------------------------------- item 7

const STALE: &str = "{\"metadata\": {\"command\": \"build\"}, \"results\": [], \"success\": true, \"error\": null}\n";

fn run_results(p: &TestProject) -> serde_json::Value {
    serde_json::from_str(&read(&p.path("target/run_results.json"))).unwrap()
}

/// A project with one model whose target is a Snowflake at `host`.
fn project_on(host: &str) -> TestProject {
    let p = TestProject::new();
    p.file(
        "profiles.yml",
        &format!("test_project:\n  target: dev\n  outputs:\n    dev:\n      type: snowflake\n      account: a\n      user: u\n      password: p\n      database: ANALYTICS\n      schema: PUBLIC\n      host: {host}\n      retries: 0\n"),
    );
    p.model("m", "select 1 as a");
    p
}

/// A project whose target points at a closed local port.
fn unreachable_project() -> TestProject {
    project_on("http://127.0.0.1:9")
}

/// Starts cio-sql on `p` with `args`, its output discarded.
fn spawn(p: &TestProject, args: &[&str]) -> std::process::Child {
    std::process::Command::new(assert_cmd::cargo::cargo_bin("cio-sql"))
        .args(args)
        .arg("--project-dir")
        .arg(p.root())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap()
}

#[test]
fn item07_failed_run_overwrites_stale_run_results() {
    let p = unreachable_project();
    type Setup = Box<dyn Fn(&TestProject)>;
    let cases: Vec<(&str, Setup, Vec<&str>, &str)> = vec![
        (
            "unknown selection",
            Box::new(|_| {}),
            vec!["run", "--select", "nope"],
            "no model is named nope",
        ),
        (
            "a macro with a Jinja error",
            Box::new(|p| {
                p.file("macros/bad.sql", "{% macro x( %}\n");
            }),
            vec!["run"],
            "",
        ),
        (
            "a broken project file",
            Box::new(|p| {
                std::fs::remove_file(p.path("macros/bad.sql")).unwrap();
                p.file("dbt_project.yml", "name: [unclosed\n");
            }),
            vec!["build"],
            "invalid YAML",
        ),
        (
            "an unreachable warehouse",
            Box::new(|p| {
                p.file("dbt_project.yml", "name: test_project\n");
            }),
            vec!["seed"],
            "cannot reach Snowflake",
        ),
    ];
    for (what, setup, args, error) in cases {
        setup(&p);
        std::fs::create_dir_all(p.path("target")).unwrap();
        std::fs::write(p.path("target/run_results.json"), STALE).unwrap();
        let out = cio(&p, &args);
        assert_ne!(out.code, 0, "{what}: {}", out.stderr);
        let results = run_results(&p);
        assert_eq!(results["success"], false, "{what}: {results}");
        let recorded = results["error"].as_str().unwrap_or_default();
        assert!(
            !recorded.is_empty() && recorded.contains(error),
            "{what}: {results}"
        );
        assert_eq!(results["metadata"]["command"], args[0], "{what}");
    }
}

#[test]
fn item07_run_refused_by_the_lock_overwrites_stale_run_results() {
    let p = unreachable_project();
    std::fs::create_dir_all(p.path("target")).unwrap();
    std::fs::write(p.path("target/run_results.json"), STALE).unwrap();
    let lock = cio_sql::files::lock::RunLock::acquire(&p.path("target"), "dev").unwrap();
    let out = cio(&p, &["run"]);
    drop(lock);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let results = run_results(&p);
    assert_eq!(results["success"], false);
    assert!(
        results["error"]
            .as_str()
            .unwrap()
            .contains("already building"),
        "{results}"
    );
}

#[cfg(unix)]
#[test]
fn item07_interrupted_run_overwrites_stale_run_results() {
    // A "warehouse" that accepts connections and never answers.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let held = std::thread::spawn(move || {
        let mut conns = Vec::new();
        for c in listener.incoming().take(4).flatten() {
            conns.push(c);
        }
        std::thread::sleep(Duration::from_secs(30));
    });
    let p = project_on(&format!("http://127.0.0.1:{port}"));
    std::fs::create_dir_all(p.path("target")).unwrap();
    std::fs::write(p.path("target/run_results.json"), STALE).unwrap();
    let mut child = spawn(&p, &["run", "--quiet"]);
    std::thread::sleep(Duration::from_millis(1500));
    signal(&child, libc::SIGINT);
    let status = wait(&mut child, Duration::from_secs(20));
    assert_eq!(status.code(), Some(130), "{status:?}");
    let results = run_results(&p);
    assert_eq!(results["success"], false);
    assert!(
        results["error"]
            .as_str()
            .unwrap()
            .contains("interrupted by SIGINT"),
        "{results}"
    );
    drop(held);
}

// ---------------------------------------------------------------- item 9

#[test]
fn item09_empty_target_path_is_refused() {
    let p = project();
    p.file("dbt_project.yml", "name: test_project\ntarget-path: \"\"\n");
    let out = cio(&p, &["compile"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("CIO001")
            && out
                .stderr
                .contains("`target-path` in the project file is empty")
            && out.stderr.contains("dbt_project.yml:2"),
        "{}",
        out.stderr
    );
}

#[test]
fn item09_model_path_outside_project_is_refused() {
    let p = project();
    p.file(
        "dbt_project.yml",
        "name: test_project\nmodel-paths: [\"../x\"]\n",
    );
    let out = cio(&p, &["compile"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("`model-paths` in the project file leads outside the project folder")
            && out.stderr.contains("dbt_project.yml:2")
            && out.stderr.contains("absolute path"),
        "{}",
        out.stderr
    );
    for yaml in [
        "name: test_project\ntarget-path: \"../out\"\n",
        "name: test_project\nseed-paths: [\"..\"]\n",
        "name: test_project\nmacro-paths: [\"a/../../b\"]\n",
        "name: test_project\ncatalog-path: \"\"\n",
        "name: test_project\ntarget-path: models\n",
    ] {
        p.file("dbt_project.yml", yaml);
        let out = cio(&p, &["compile"]);
        assert_eq!(out.code, 2, "{yaml}: {}", out.stderr);
        assert!(out.stderr.contains("CIO001"), "{yaml}: {}", out.stderr);
    }
    assert!(!p.root().parent().unwrap().join("out").exists());
}

#[test]
fn item09_absolute_paths_are_allowed() {
    let p = project();
    let out_dir = tempfile::tempdir().unwrap();
    let models = tempfile::tempdir().unwrap();
    std::fs::write(models.path().join("far.sql"), "select 2 as b").unwrap();
    p.file(
        "dbt_project.yml",
        &format!(
            "name: test_project\nmodel-paths: [\"models\", {:?}]\ntarget-path: {:?}\n",
            models.path(),
            out_dir.path()
        ),
    );
    let out = cio(&p, &["compile"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out_dir.path().join("compiled/models/people.sql").is_file());
    // The far model's SQL stays inside the target folder, its source untouched.
    let far = models.path().strip_prefix("/").unwrap().join("far.sql");
    assert!(
        out_dir.path().join("compiled").join(&far).is_file(),
        "{:?}",
        walk(out_dir.path())
    );
    assert_eq!(read(&models.path().join("far.sql")), "select 2 as b");
}

// ---------------------------------------------------------------- item 10

#[test]
fn item10_compile_removes_only_stale_cio_sql_temp_files() {
    let p = project();
    assert_eq!(cio(&p, &["compile"]).code, 0);
    let target = p.path("target");
    // A pid above the kernel's limit: no process has it.
    let dead = target.join(".cio-sql-tmp-4194305-AbC123");
    let live = target.join(format!(".cio-sql-tmp-{}-AbC123", std::process::id()));
    let legacy = target.join(".compile_cacheQ1w2E3");
    let foreign = [
        target.join(".tmpAbC123"),
        target.join("notes.txt"),
        target.join(".cio-sql-tmp-notapid"),
        p.path("models/.cio-sql-tmp-4194305-AbC123"),
    ];
    for f in [&dead, &live, &legacy].into_iter().chain(&foreign) {
        std::fs::write(f, b"x").unwrap();
    }
    // The legacy cache file was left an hour ago.
    std::fs::File::options()
        .write(true)
        .open(&legacy)
        .unwrap()
        .set_modified(std::time::SystemTime::now() - Duration::from_secs(3600))
        .unwrap();
    let out = cio(&p, &["compile", "--no-cache"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(!dead.exists(), "a dead process's temp file is removed");
    assert!(
        !legacy.exists(),
        "an old version's cache temp file is removed"
    );
    assert!(live.exists(), "a running process's temp file is kept");
    for f in &foreign {
        assert!(f.exists(), "{} is not cio-sql's: kept", f.display());
    }
}

/// A project large enough that a compile of it takes seconds.
#[cfg(unix)]
fn big_project(models: usize) -> TestProject {
    let p = TestProject::new();
    for i in 0..models {
        p.model(
            &format!("group_{}/m_{i}", i % 20),
            "{{ nexus.customer_io_identify(ignore_traits=['phone_number']) }}",
        );
    }
    p
}

#[cfg(unix)]
fn signal(child: &std::process::Child, sig: i32) {
    let pid = libc::pid_t::try_from(child.id()).unwrap();
    // SAFETY: sends a signal to our own child process.
    assert_eq!(unsafe { libc::kill(pid, sig) }, 0);
}

#[cfg(unix)]
fn wait(child: &mut std::process::Child, limit: Duration) -> std::process::ExitStatus {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            panic!("cio-sql did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[cfg(unix)]
fn temp_files(dir: &Path) -> Vec<PathBuf> {
    walk(dir)
        .into_iter()
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(".cio-sql-tmp-") || n.starts_with(".tmp"))
        })
        .collect()
}

#[cfg(unix)]
fn interrupt_compile(sig: i32, expected: i32) {
    let p = big_project(1500);
    let mut child = spawn(&p, &["compile", "--quiet"]);
    // Wait for the compile cache's temporary file: the compile is under way.
    let started = Instant::now();
    while temp_files(&p.path("target")).is_empty() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the compile ended before it could be interrupted"
        );
        assert!(started.elapsed() < Duration::from_secs(60));
        std::thread::sleep(Duration::from_millis(2));
    }
    std::thread::sleep(Duration::from_millis(200));
    signal(&child, sig);
    let status = wait(&mut child, Duration::from_secs(30));
    assert_eq!(status.code(), Some(expected), "{status:?}");
    assert_eq!(
        temp_files(&p.path("target")),
        Vec::<PathBuf>::new(),
        "temporary files left behind"
    );
}

#[cfg(unix)]
#[test]
fn item10_sigint_during_compile_removes_temp_files_and_exits_130() {
    interrupt_compile(libc::SIGINT, 130);
}

#[cfg(unix)]
#[test]
fn item10_sigterm_during_compile_removes_temp_files_and_exits_143() {
    interrupt_compile(libc::SIGTERM, 143);
}

// ---------------------------------------------------------------- item 11

#[test]
fn item11_second_compile_waits_for_the_first() {
    let p = project();
    let lock = cio_sql::files::lock::CompileLock::acquire(&p.path("target")).unwrap();
    let mut child = spawn(&p, &["compile", "--quiet"]);
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        child.try_wait().unwrap().is_none(),
        "the second compile waits while the first holds the lock"
    );
    assert!(
        !p.path("target/compiled").exists(),
        "and writes nothing meanwhile"
    );
    drop(lock);
    let status = child.wait().unwrap();
    assert!(status.success(), "then it compiles: {status:?}");
    assert!(p.path("target/compiled/models/people.sql").is_file());
}

#[test]
fn item11_second_compile_gives_up_after_the_wait() {
    let p = project();
    let _lock = cio_sql::files::lock::CompileLock::acquire(&p.path("target")).unwrap();
    let started = Instant::now();
    let out = cio(&p, &["compile"]);
    let waited = started.elapsed();
    assert_eq!(
        out.code, 1,
        "a busy target folder is a runtime failure: {}",
        out.stderr
    );
    assert!(
        out.stderr.contains("CIO022") && out.stderr.contains(".cio-sql-compile.lock"),
        "{}",
        out.stderr
    );
    assert!(
        waited >= cio_sql::files::lock::COMPILE_LOCK_WAIT && waited < Duration::from_secs(60),
        "{waited:?}"
    );
    assert!(!p.path("target/compiled").exists());
}

#[test]
fn item11_concurrent_compiles_leave_one_consistent_target() {
    let p = TestProject::new();
    for i in 0..150 {
        p.model(&format!("m_{i}"), "select {{ var('v') }} as v");
    }
    let (mut a, mut b) = (
        spawn(&p, &["compile", "--quiet", "--vars", "{v: 1}"]),
        spawn(&p, &["compile", "--quiet", "--vars", "{v: 2}"]),
    );
    assert!(a.wait().unwrap().success());
    assert!(b.wait().unwrap().success());
    let values: std::collections::BTreeSet<String> = (0..150)
        .map(|i| read(&p.path(&format!("target/compiled/models/m_{i}.sql"))))
        .collect();
    assert_eq!(values.len(), 1, "one compile's SQL, not a mix: {values:?}");
}

// ---------------------------------------------------------------- item 12

#[cfg(target_os = "linux")]
fn to_dev_full(p: &TestProject, args: &[&str]) -> Out {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("cio-sql"))
        .args(args)
        .arg("--project-dir")
        .arg(p.root())
        .stdout(full)
        .output()
        .unwrap();
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::new(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[cfg(target_os = "linux")]
#[test]
fn item12_show_to_dev_full_exits_cleanly() {
    let p = project();
    let out = to_dev_full(&p, &["compile", "--show"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    let errors: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.contains("cannot write to stdout"))
        .collect();
    assert_eq!(errors.len(), 1, "one line: {}", out.stderr);
    assert!(
        errors[0].contains("CIO023") && errors[0].contains("No space left on device"),
        "{}",
        out.stderr
    );
    assert!(
        p.path("target/compiled/models/people.sql").is_file(),
        "the compile itself is done"
    );
}

#[cfg(target_os = "linux")]
#[test]
fn item12_every_command_to_dev_full_exits_cleanly() {
    let p = project();
    for args in [
        vec!["ls"],
        vec!["ls", "--log-format", "json"],
        vec!["compile"],
        vec!["compile", "--log-format", "json"],
        vec!["review"],
        vec!["sync-query"],
        vec!["lineage", "people"],
        vec!["--help"],
    ] {
        let out = to_dev_full(&p, &args);
        assert_ne!(out.code, 0, "{args:?}: {}", out.stderr);
        assert!(
            !out.stderr.contains("panicked") && out.stderr.contains("CIO023"),
            "{args:?}: {}",
            out.stderr
        );
    }
}

// ---------------------------------------------------------------- item 14

#[test]
fn item14a_target_path_that_is_a_file_is_named() {
    let p = project();
    std::fs::write(p.path("target"), "I am a file").unwrap();
    for command in ["compile", "run"] {
        let out = cio(&p, &[command]);
        assert_eq!(out.code, 1, "{command}: {}", out.stderr);
        assert!(
            out.stderr.contains("CIO020")
                && out.stderr.contains("target is a file, not a folder")
                && out.stderr.contains("target-path"),
            "{command}: {}",
            out.stderr
        );
        assert_eq!(
            out.stderr.matches("is a file, not a folder").count(),
            1,
            "said once: {}",
            out.stderr
        );
    }
    assert_eq!(read(&p.path("target")), "I am a file");
}

#[cfg(unix)]
#[test]
fn item14b_dangling_model_link_is_reported_as_such() {
    let p = project();
    std::os::unix::fs::symlink(p.path("models/gone.sql"), p.path("models/ghost.sql")).unwrap();
    let out = cio(&p, &["compile"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("CIO002")
            && out.stderr.contains("ghost.sql")
            && out.stderr.contains("is a symbolic link to")
            && out.stderr.contains("which does not exist")
            && !out.stderr.contains("looping"),
        "{}",
        out.stderr
    );
}

#[test]
fn item14c_reserved_macro_names_are_errors() {
    for name in [
        "ref", "var", "config", "env_var", "source", "this", "target", "range",
    ] {
        let p = project();
        p.file(
            "macros/mine.sql",
            &format!("-- helpers\n{{% macro {name}(x) %}}{{{{ x }}}}{{% endmacro %}}\n"),
        );
        let out = cio(&p, &["compile"]);
        assert_eq!(out.code, 2, "{name}: {}", out.stderr);
        assert!(
            out.stderr.contains("CIO007")
                && out.stderr.contains(&format!("the macro `{name}`"))
                && out.stderr.contains("macros/mine.sql:2:10"),
            "{name}: {}",
            out.stderr
        );
    }
}

#[test]
fn item14d_yaml_list_mentioning_sources_loads() {
    let p = project();
    p.file(
        "models/schema.yml",
        "# sources: are declared elsewhere\n- name: people\n  description: \"sources: none\"\n",
    );
    p.file(
        "models/docs.yml",
        "version: 2\nmodels:\n  - name: people\n    description: \"reads the sources: of nexus\"\n",
    );
    let out = cio(&p, &["compile"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    // A real sources file is still read.
    p.file(
        "models/sources.yml",
        "sources:\n  - name: nexus\n    schema: NEXUS\n    tables: [{name: nexus_entities}]\n",
    );
    p.model(
        "from_source",
        "select entity_id from {{ source('nexus', 'nexus_entities') }}",
    );
    let out = cio(&p, &["compile", "--select", "from_source"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        read(&p.path("target/compiled/models/from_source.sql"))
            .contains("ANALYTICS.NEXUS.nexus_entities")
    );
}

#[test]
fn item14e_run_lock_held_exits_1() {
    let p = unreachable_project();
    let lock = cio_sql::files::lock::RunLock::acquire(&p.path("target"), "dev").unwrap();
    for command in ["run", "seed", "build"] {
        let out = cio(&p, &[command]);
        assert_eq!(out.code, 1, "{command}: {}", out.stderr);
        assert!(out.stderr.contains("CIO310"), "{}", out.stderr);
    }
    drop(lock);
    // A usage error still exits 2.
    assert_eq!(cio(&p, &["run", "--select", "nope"]).code, 2);
}
