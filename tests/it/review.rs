//! `cio-sql review`: reviewed SQL kept in the project, diffs fail the run.

use crate::support::TestProject;
use assert_cmd::Command;

fn review(p: &TestProject, extra: &[&str]) -> (i32, String) {
    let out = Command::cargo_bin("cio-sql")
        .unwrap()
        .arg("review")
        .args(extra)
        .arg("--project-dir")
        .arg(p.root())
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn review_flow() {
    let p = TestProject::new();
    p.model("people", "{{ nexus.customer_io_identify() }}");
    p.model("sub/base", "select 1 as a");

    let (code, out) = review(&p, &[]);
    assert_eq!(code, 1, "new models are differences: {out}");
    assert!(out.contains("new      reviewed/models/people.sql"), "{out}");

    let (code, out) = review(&p, &["--accept"]);
    assert_eq!(code, 0, "{out}");
    assert!(p.path("reviewed/models/sub/base.sql").is_file());

    let (code, out) = review(&p, &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("All 2 model(s) match"), "{out}");

    p.model(
        "people",
        "{{ nexus.customer_io_identify(rename_traits={'first_name': 'firstName'}) }}",
    );
    let (code, out) = review(&p, &[]);
    assert_eq!(code, 1);
    assert!(
        out.contains("--- a/reviewed/models/people.sql")
            && out.contains("-    first_name AS \"first_name\",")
            && out.contains("+    first_name AS \"firstName\","),
        "{out}"
    );

    std::fs::remove_file(p.path("models/sub/base.sql")).unwrap();
    let (code, out) = review(&p, &["--accept"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("orphaned reviewed/models/sub/base.sql"),
        "{out}"
    );
    assert!(!p.path("reviewed/models/sub/base.sql").exists());
    assert_eq!(review(&p, &[]).0, 0);

    p.model(
        "people",
        "{{ nexus.customer_io_identify(dedupe_column='nope') }}",
    );
    let (code, _) = review(&p, &[]);
    assert_eq!(code, 1, "a failed model fails the review");
}
