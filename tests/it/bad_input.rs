//! The corpus of broken projects: each gives a clear error naming the file
//! (and line where there is one), exits non-zero, never panics, and leaves
//! earlier compiled output intact.

use crate::support::TestProject;
use assert_cmd::Command;

struct Case {
    name: &'static str,
    /// Breaks the project.
    apply: fn(&TestProject),
    /// Text the error output must contain.
    expect: &'static [&'static str],
    exit: i32,
}

fn project() -> TestProject {
    let p = TestProject::new();
    p.model("people", "{{ nexus.customer_io_identify() }}\n");
    p
}

const CASES: &[Case] = &[
    Case {
        name: "invalid project yaml",
        apply: |p| {
            p.file("dbt_project.yml", "name: [oops\n");
        },
        expect: &["CIO001", "dbt_project.yml:"],
        exit: 2,
    },
    Case {
        name: "invalid profile yaml",
        apply: |p| {
            p.file(
                "profiles.yml",
                "test_project:\n  target: dev\n  outputs: {dev: [\n",
            );
        },
        expect: &["CIO005", "profiles.yml:"],
        exit: 2,
    },
    Case {
        name: "invalid catalog yaml",
        apply: |p| {
            p.file("catalog.yml", "relations:\n  - name: nexus_entities\n    columns:\n      - name: a\n        data_type: [\n");
        },
        expect: &["CIO003", "catalog.yml:"],
        exit: 2,
    },
    Case {
        name: "unknown ref",
        apply: |p| {
            p.model("people", "select * from {{ ref('nexus_entitie') }}\n");
        },
        expect: &[
            "CIO111",
            "models/people.sql:1:",
            "did you mean `nexus_entities`",
        ],
        exit: 1,
    },
    Case {
        name: "cycle",
        apply: |p| {
            p.model("people", "select * from {{ ref('other') }}\n");
            p.model("other", "select * from {{ ref('people') }}\n");
        },
        expect: &["CIO011", "people -> ", "other"],
        exit: 1,
    },
    Case {
        name: "unknown macro",
        apply: |p| {
            p.model("people", "select {{ make_it_so() }}\n");
        },
        expect: &["CIO103", "models/people.sql:1:"],
        exit: 1,
    },
    Case {
        name: "unknown macro argument",
        apply: |p| {
            p.model("people", "{{ nexus.customer_io_identify(user_id='x') }}\n");
        },
        expect: &[
            "CIO104",
            "unknown keyword argument `user_id`",
            "takes: entity_type",
        ],
        exit: 1,
    },
    Case {
        name: "mistyped macro argument",
        apply: |p| {
            p.model(
                "people",
                "{{ nexus.customer_io_identify(rename_traits='first_name') }}\n",
            );
        },
        expect: &["CIO104", "`rename_traits` must map"],
        exit: 1,
    },
    Case {
        name: "jinja syntax error",
        apply: |p| {
            p.model("people", "select 1\n{% if true %}\nselect 2\n");
        },
        expect: &["CIO100", "models/people.sql:"],
        exit: 1,
    },
    Case {
        name: "unterminated jinja string",
        apply: |p| {
            p.model("people", "select {{ 'abc }}\n");
        },
        expect: &["CIO100", "models/people.sql:1:"],
        exit: 1,
    },
    Case {
        name: "unterminated sql string",
        apply: |p| {
            p.model("people", "select 'abc\nfrom t\n");
        },
        expect: &["CIO150", "models/people.sql"],
        exit: 1,
    },
    Case {
        name: "sql syntax error",
        apply: |p| {
            p.model("people", "select a b c\nfrom t\n");
        },
        expect: &["CIO150", "models/people.sql:1:"],
        exit: 1,
    },
    Case {
        name: "empty model",
        apply: |p| {
            p.model("people", "");
        },
        expect: &["CIO151", "models/people.sql"],
        exit: 1,
    },
    Case {
        name: "non-utf8 file",
        apply: |p| {
            std::fs::write(p.path("models/people.sql"), b"select '\xff\xfe' as x\n").unwrap();
        },
        expect: &["CIO002", "models/people.sql", "UTF-8"],
        exit: 2,
    },
    Case {
        name: "model that is a directory",
        apply: |p| {
            std::fs::create_dir_all(p.path("models/weird.sql")).unwrap();
        },
        expect: &["CIO002", "models/weird.sql", "is a directory"],
        exit: 2,
    },
    Case {
        name: "deeply nested jinja",
        apply: |p| {
            p.model(
                "people",
                &format!(
                    "{}1{}",
                    "{% if true %}".repeat(500),
                    "{% endif %}".repeat(500)
                ),
            );
        },
        expect: &["models/people.sql"],
        exit: 1,
    },
    Case {
        name: "symlink loop",
        apply: |p| {
            std::os::unix::fs::symlink(p.path("models"), p.path("models/loop")).unwrap();
        },
        expect: &["CIO002", "loop"],
        exit: 2,
    },
];

#[test]
fn every_broken_project_fails_cleanly() {
    for case in CASES {
        let p = project();
        let compiled = p.path("target/compiled/models/people.sql");
        let ok = Command::cargo_bin("cio-sql")
            .unwrap()
            .args(["compile", "--project-dir"])
            .arg(p.root())
            .output()
            .unwrap();
        assert!(
            ok.status.success(),
            "{}: the good project must compile first",
            case.name
        );
        let before = std::fs::read_to_string(&compiled).unwrap();

        (case.apply)(&p);
        let out = Command::cargo_bin("cio-sql")
            .unwrap()
            .args(["compile", "--project-dir"])
            .arg(p.root())
            .env("NO_COLOR", "1")
            .timeout(std::time::Duration::from_secs(60))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(case.exit),
            "{}: exit code\n{stderr}",
            case.name
        );
        assert!(
            !stderr.contains("panicked"),
            "{}: panicked\n{stderr}",
            case.name
        );
        for want in case.expect {
            assert!(
                stderr.contains(want),
                "{}: expected `{want}` in:\n{stderr}",
                case.name
            );
        }
        assert!(
            stderr.contains("help:"),
            "{}: every error says how to fix it\n{stderr}",
            case.name
        );
        assert_eq!(
            std::fs::read_to_string(&compiled).unwrap(),
            before,
            "{}: earlier output intact",
            case.name
        );
    }
}

#[test]
fn a_huge_model_compiles() {
    let p = TestProject::new();
    let body: Vec<String> = (0..20_000)
        .map(|i| format!("select {i} as n, 'row {i}' as label"))
        .collect();
    p.model("huge", &body.join("\nunion all\n"));
    let c = p.compile();
    assert!(c.succeeded());
    assert!(c.model("huge").unwrap().sql().unwrap().len() > 500_000);
}
