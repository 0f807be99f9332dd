//! What the integration tests share: throw-away projects compiled through
//! the library (this file), the binary and the emulator
//! ([`emulator_cli`], [`fakesnow`]), and the library's own test doubles
//! ([`mock`], [`fault_server`]), included from `src/` rather than compiled
//! into every build.
#![allow(dead_code)]

pub mod emulator_cli;
pub mod fakesnow;
#[path = "../../../src/warehouse/fault_server.rs"]
pub mod fault_server;
pub mod mock;
pub mod venv;

use cio_sql::compile::{Compilation, CompileOptions};
use cio_sql::diagnostics::Diagnostic;
use cio_sql::pipeline::compile;
use cio_sql::project::LoadOptions;
use std::path::{Path, PathBuf};

/// The nexus_entities catalog used by most tests (ordinal order).
pub const ENTITIES: &str = r#"relations:
  - name: nexus_entities
    schema: NEXUS
    columns:
      - {name: entity_id, data_type: VARCHAR(16777216)}
      - {name: entity_type, data_type: VARCHAR(16777216)}
      - {name: email, data_type: VARCHAR(16777216)}
      - {name: first_name, data_type: VARCHAR(16777216)}
      - {name: last_name, data_type: VARCHAR(16777216)}
      - {name: phone_number, data_type: VARCHAR(16777216)}
      - {name: status, data_type: VARCHAR(16777216)}
      - {name: user_id, data_type: VARCHAR(16777216)}
      - {name: segment_anonymous_id, data_type: VARCHAR(16777216)}
      - {name: account_number, data_type: "NUMBER(38,0)"}
      - {name: signup_date, data_type: DATE}
      - {name: trial_ends, data_type: DATETIME}
      - {name: local_seen_at, data_type: TIMESTAMP_LTZ(9)}
      - {name: CamelCaseTrait, data_type: TEXT}
      - {name: SHOUTY_TRAIT, data_type: STRING}
      - {name: traits_entity_id, data_type: VARCHAR(16777216)}
      - {name: _processed_at, data_type: TIMESTAMP_NTZ(9)}
      - {name: _updated_at, data_type: TIMESTAMP_NTZ(9)}
      - {name: _created_at, data_type: timestamp without time zone}
  - name: high_level_customer_journey
    schema: NEXUS
    columns:
      - {name: entity_id, data_type: VARCHAR(16777216)}
      - {name: state_value, data_type: VARCHAR(16777216)}
      - {name: is_current, data_type: BOOLEAN}
"#;

/// A project on disk in a temporary folder.
pub struct TestProject {
    pub dir: tempfile::TempDir,
}

impl TestProject {
    /// A project named `test_project` with the default catalog.
    pub fn new() -> Self {
        let p = TestProject {
            dir: tempfile::tempdir().expect("temp dir"),
        };
        p.file(
            "dbt_project.yml",
            "name: test_project\nprofile: test_project\n",
        );
        p.file("catalog.yml", ENTITIES);
        p
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `rel` (creating folders) and returns self for chaining.
    pub fn file(&self, rel: &str, text: &str) -> &Self {
        let path = self.dir.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
        self
    }

    /// Writes `models/<name>.sql`.
    pub fn model(&self, name: &str, text: &str) -> &Self {
        self.file(&format!("models/{name}.sql"), text)
    }

    pub fn options(&self) -> CompileOptions {
        CompileOptions {
            load: LoadOptions {
                project_dir: self.dir.path().to_path_buf(),
                profiles_dir: None,
                ..Default::default()
            },
            write: true,
            // Every test that compiles a project twice, changing it in
            // between, also checks that the compile cache notices.
            use_cache: true,
            ..Default::default()
        }
    }

    /// Compiles with default options.
    pub fn compile(&self) -> Compilation {
        compile(&self.options()).expect("project loads")
    }

    /// Compiles expecting a project-level failure.
    pub fn compile_err(&self) -> Diagnostic {
        compile(&self.options()).expect_err("project must fail to load")
    }

    /// The compiled SQL of `model`, panicking with its diagnostics if it failed.
    pub fn sql(&self, model: &str) -> String {
        let c = self.compile();
        let m = c.model(model).expect("model exists");
        match m.sql() {
            Some(sql) if m.diagnostics.iter().all(|d| !d.is_error()) => sql,
            _ => panic!("{model} failed:\n{}", render_all(&m.diagnostics)),
        }
    }

    /// The diagnostics of `model`, rendered plainly.
    pub fn errors(&self, model: &str) -> Vec<Diagnostic> {
        let c = self.compile();
        c.model(model).expect("model exists").diagnostics.clone()
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }
}

/// The Customer.io sync type a model's configuration records (`cio_sync`).
pub fn cio_sync(config: &cio_sql::project::ModelConfig) -> Option<&str> {
    config.values.get("cio_sync").and_then(|v| v.as_str())
}

/// Every diagnostic rendered without colour, separated by blank lines.
pub fn render_all(diags: &[Diagnostic]) -> String {
    diags
        .iter()
        .map(|d| d.render(false))
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// Runs `f` with insta writing snapshots to the top-level `snapshots/` folder.
pub fn snapshots<F: FnOnce()>(f: F) {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(f);
}

/// The output column aliases of a compiled identify SELECT, in order.
pub fn aliases(sql: &str) -> Vec<String> {
    sql.lines()
        .filter_map(|l| l.trim().trim_end_matches(',').rsplit_once(" AS "))
        .filter(|(_, alias)| alias.starts_with('"'))
        .map(|(_, alias)| alias.trim_matches('"').to_string())
        .collect()
}

/// Copies a folder tree (the example project's models, seeds, …).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let dest = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), dest).unwrap();
        }
    }
}
