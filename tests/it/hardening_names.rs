//! Hardening (issue 10): names in generated SQL (items 3, 4, 14a, 14b) and
//! deeply nested SQL (item 13). Each test is named after its item.
//!
//! Every relation name reaching a statement goes through
//! `cio_sql::sql::relation_part`; names cio-sql cannot create are
//! compile errors (CIO014), two models building one relation too (CIO015).

use crate::support::fakesnow;

use crate::support::TestProject;
use crate::support::mock::MockWarehouse;
use assert_cmd::Command;
use cio_sql::artifacts::run_results::NodeStatus;
use cio_sql::compile::{Compilation, ModelStatus};
use cio_sql::execution::run::{RunOptions, run_models};
use cio_sql::warehouse::Warehouse;
use proptest::prelude::*;
use sqlparser::ast::{ObjectName, ObjectNamePart, Statement};
use sqlparser::dialect::SnowflakeDialect;
use sqlparser::parser::Parser;
use std::path::Path;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn cio(dir: &Path, args: &[&str]) -> Run {
    let out = Command::cargo_bin("cio-sql")
        .unwrap()
        .args(args)
        .arg("--project-dir")
        .arg(dir)
        .env("NO_COLOR", "1")
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .unwrap();
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(
        !run.stderr.contains("panicked") && !run.stderr.contains("overflow"),
        "cio-sql crashed:\n{}",
        run.stderr
    );
    run
}

/// The name Snowflake stores for a relation part that is `quoted` by the
/// project's `quoting:` (Snowflake's "Identifier requirements": an
/// unquoted name is a letter or `_`, then letters, digits, `_` or `$`, and
/// is stored upper-cased; anything else must be quoted and is kept as
/// spelled). Written here again, apart from cio-sql's own rule, as the
/// test's oracle.
fn stored(name: &str, quoted: bool) -> String {
    let mut chars = name.chars();
    let plain = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$');
    if plain && !quoted {
        name.to_ascii_uppercase()
    } else {
        name.to_string()
    }
}

/// The relation name of a statement, as Snowflake resolves it.
fn resolved(name: &ObjectName) -> Vec<String> {
    name.0
        .iter()
        .map(|p| match p {
            ObjectNamePart::Identifier(i) if i.quote_style.is_some() => i.value.clone(),
            ObjectNamePart::Identifier(i) => i.value.to_uppercase(),
            other => panic!("unexpected name part {other:?}"),
        })
        .collect()
}

/// Parses one statement sent to the warehouse; panics unless it is exactly
/// one statement.
fn parse_one(sql: &str) -> Statement {
    let mut statements = Parser::new(&SnowflakeDialect {})
        .with_recursion_limit(1000)
        .try_with_sql(sql)
        .and_then(|mut p| p.parse_statements())
        .unwrap_or_else(|e| panic!("does not parse: {e}\n{sql}"));
    assert_eq!(statements.len(), 1, "one statement: {sql}");
    statements.remove(0)
}

/// Every statement `run` sends for the selected models of `c`, recorded by
/// a mock warehouse, and the names of the models it built.
fn run_on_mock(c: &Compilation) -> (Vec<String>, Vec<String>) {
    let wh = MockWarehouse::new();
    let results = run_models(
        c,
        &wh as &dyn Warehouse,
        RunOptions {
            threads: 1,
            ..RunOptions::default()
        },
        &|_, _, _| {},
    );
    let built = results
        .iter()
        .filter(|r| r.status == NodeStatus::Success)
        .map(|r| r.name.clone())
        .collect();
    (wh.statements(), built)
}

fn run_statements(c: &Compilation) -> Vec<String> {
    run_on_mock(c).0
}

/// Checks that every statement `run` sends for `c` parses alone, and that
/// the `CREATE OR REPLACE` statements build exactly the relations of the
/// models it built, as Snowflake resolves them under the project's quoting.
fn check_run_statements(c: &Compilation) {
    let quoting = c.project.config.quoting;
    let (statements, built) = run_on_mock(c);
    let mut want: Vec<Vec<String>> = built
        .iter()
        .map(|name| {
            let m = c.model(name).unwrap();
            assert_eq!(m.status, ModelStatus::Success, "{name} was built");
            let r = &m.relation;
            vec![
                stored(&r.database, quoting.database),
                stored(&r.schema, quoting.schema),
                stored(&r.identifier, quoting.identifier),
            ]
        })
        .collect();
    let mut created = Vec::new();
    for sql in statements {
        match parse_one(&sql) {
            Statement::CreateView(v) => created.push(resolved(&v.name)),
            Statement::CreateTable(t) => created.push(resolved(&t.name)),
            Statement::CreateSchema { .. } | Statement::Query(_) => {}
            other => panic!("unexpected statement {other}"),
        }
    }
    created.sort();
    want.sort();
    assert_eq!(created, want);
}

/// Turns `quoting: {identifier: true}` on in the project file.
fn quote_identifiers(p: &TestProject) {
    p.file(
        "dbt_project.yml",
        "name: test_project\nquoting: {identifier: true}\n",
    );
}

const INJECTION: &str =
    "t AS SELECT 1 AS x; CREATE OR REPLACE TABLE pwned AS SELECT 42 AS owned; --";

fn injection_model() -> String {
    format!("{{{{ config(alias=\"{INJECTION}\", materialized='table') }}}}\nselect 1 as a\n")
}

#[test]
fn item03_alias_injection_is_a_compile_error() {
    let p = TestProject::new();
    p.model("inj", &injection_model());
    p.model("fine", "select 1 as a");
    let run = cio(p.root(), &["compile"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("error[CIO014]"), "{}", run.stderr);
    assert!(
        run.stderr.contains("--> models/inj.sql:1:11"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("quoting: {identifier: true}"),
        "{}",
        run.stderr
    );
    assert!(!p.path("target/compiled/models/inj.sql").exists());
    assert!(p.path("target/compiled/models/fine.sql").exists());
    // Nothing reaches the warehouse for it.
    let c = p.compile();
    assert_eq!(c.model("inj").unwrap().status, ModelStatus::Error);
    let sent = run_statements(&c);
    assert!(!sent.iter().any(|s| s.contains("pwned")), "{sent:?}");
    check_run_statements(&c);
}

#[test]
fn item03_alias_injection_is_one_quoted_name_when_quoting_is_on() {
    let p = TestProject::new();
    quote_identifiers(&p);
    p.model("inj", &injection_model());
    p.model("down", "select a from {{ ref('inj') }}");
    let c = p.compile();
    assert!(c.succeeded(), "{:?}", c.model("inj").unwrap().diagnostics);
    let down = c.model("down").unwrap().sql().unwrap();
    assert_eq!(
        down,
        format!("select a from ANALYTICS.PUBLIC.\"{INJECTION}\"\n")
    );
    let sent = run_statements(&c);
    let creates: Vec<&String> = sent.iter().filter(|s| s.starts_with("CREATE OR")).collect();
    assert_eq!(creates.len(), 2, "{sent:?}");
    check_run_statements(&c);
}

#[test]
fn item03_model_file_with_space_is_quoted_or_rejected() {
    let p = TestProject::new();
    p.model("my model", "select 1 as a");
    p.model("down", "select a from {{ ref('my model') }}");
    let c = p.compile();
    let m = c.model("my model").unwrap();
    assert_eq!(m.status, ModelStatus::Error);
    let d = &m.diagnostics[0];
    assert_eq!(d.code, "CIO014");
    assert_eq!(d.file.as_deref(), Some(Path::new("models/my model.sql")));
    assert!(d.message.contains("`my model`"), "{}", d.message);
    let help = d.help.as_deref().unwrap();
    assert!(help.contains("`my_model.sql`"), "{help}");
    assert!(!p.path("target/compiled/models/my model.sql").exists());
    // The model that refs it still renders a name that cannot break out.
    assert_eq!(
        c.model("down").unwrap().sql().unwrap(),
        "select a from ANALYTICS.PUBLIC.\"my model\"\n"
    );

    // With quoting on, it is built as "my model", exactly as spelled.
    quote_identifiers(&p);
    let c = p.compile();
    assert!(c.succeeded());
    check_run_statements(&c);
    assert!(p.path("target/compiled/models/my model.sql").exists());
}

#[test]
fn item03_model_files_with_dots_or_semicolons_are_rejected() {
    let p = TestProject::new();
    p.model("a.b.c", "select 1 as a");
    p.model("semi;drop table x", "select 1 as a");
    p.model("ok_name$1", "select 1 as a");
    let c = p.compile();
    for name in ["a.b.c", "semi;drop table x"] {
        let m = c.model(name).unwrap();
        assert_eq!(m.status, ModelStatus::Error, "{name}");
        assert_eq!(m.diagnostics[0].code, "CIO014", "{name}");
    }
    // `$` is part of a plain Snowflake identifier.
    assert_eq!(c.model("ok_name$1").unwrap().status, ModelStatus::Success);
    check_run_statements(&c);
}

#[test]
fn item03_reserved_words_are_quoted_in_upper_case() {
    let p = TestProject::new();
    p.model("order", "select 1 as a");
    p.model("down", "select a from {{ ref('order') }}");
    let c = p.compile();
    assert!(c.succeeded());
    assert_eq!(
        c.model("down").unwrap().sql().unwrap(),
        "select a from ANALYTICS.PUBLIC.\"ORDER\"\n"
    );
    check_run_statements(&c);
}

#[test]
fn item03_names_from_the_project_file_point_at_their_line() {
    let p = TestProject::new();
    p.file(
        "dbt_project.yml",
        "name: test_project\nmodels:\n  test_project:\n    marts:\n      +schema: \"crm eu\"\n",
    );
    p.file("models/marts/orders.sql", "select 1 as a");
    let c = p.compile();
    let d = &c.model("orders").unwrap().diagnostics[0];
    assert_eq!(d.code, "CIO014");
    assert_eq!(d.file.as_deref(), Some(Path::new("dbt_project.yml")));
    assert_eq!(d.line, Some(5));
    assert!(d.message.contains("`PUBLIC_crm eu`"), "{}", d.message);
    assert!(
        d.help
            .as_deref()
            .unwrap()
            .contains("quoting: {schema: true}"),
        "{:?}",
        d.help
    );
}

#[test]
fn item03_target_schema_that_needs_quotes_is_a_configuration_error() {
    let p = TestProject::new();
    p.file(
        "profiles.yml",
        "test_project:\n  target: dev\n  outputs:\n    dev:\n      type: snowflake\n      database: ANALYTICS\n      schema: customer-io\n",
    );
    p.model("fine", "select 1 as a");
    let run = cio(
        p.root(),
        &["compile", "--profiles-dir", p.root().to_str().unwrap()],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("error[CIO014]"), "{}", run.stderr);
    assert!(
        run.stderr.contains("`schema: customer-io`"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("`customer_io`"), "{}", run.stderr);
    // With the schema quoted, models are built in "customer-io".
    p.file(
        "dbt_project.yml",
        "name: test_project\nquoting: {schema: true}\n",
    );
    let run = cio(
        p.root(),
        &["compile", "--profiles-dir", p.root().to_str().unwrap()],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[test]
fn item03_seed_names_are_checked() {
    let p = TestProject::new();
    p.file("seeds/my seed.csv", "id\n1\n");
    let project = cio_sql::project::Project::load(&p.options().load).unwrap();
    let catalog = cio_sql::catalog::load_catalog(&project).unwrap();
    let seeds: Vec<_> = cio_sql::execution::seed::find_seeds(&project)
        .into_iter()
        .map(|f| cio_sql::execution::seed::read_seed(&f.unwrap()).unwrap())
        .collect();
    let err = cio_sql::execution::seed::plan_seed(
        &seeds[0],
        &catalog,
        &project.target,
        project.config.quoting,
    )
    .unwrap_err();
    assert_eq!(err.code, "CIO014");
    assert!(
        err.help.as_deref().unwrap().contains("`my_seed.csv`"),
        "{:?}",
        err.help
    );

    // Quoted, every statement of the load names one relation.
    let quoting = cio_sql::sql::Quoting {
        database: true,
        schema: true,
        identifier: true,
    };
    let plan =
        cio_sql::execution::seed::plan_seed(&seeds[0], &catalog, &project.target, quoting).unwrap();
    for sql in &plan.statements {
        match parse_one(sql) {
            Statement::CreateSchema { schema_name, .. } => {
                assert_eq!(schema_name.to_string(), "\"ANALYTICS\".\"PUBLIC\"")
            }
            Statement::CreateTable(t) => {
                let table = &resolved(&t.name)[2];
                assert!(
                    table == "my seed"
                        || table.starts_with(cio_sql::execution::seed::SCRATCH_PREFIX),
                    "{sql}"
                )
            }
            Statement::Insert(_) | Statement::Drop { .. } | Statement::ShowTables { .. } => {}
            other => panic!("unexpected {other}"),
        }
    }
}

#[test]
fn item04_two_models_one_relation_is_an_error() {
    let p = TestProject::new();
    p.file("models/x/Foo.sql", "select 1 as a");
    p.model("other", "{{ config(alias='FOO') }}\nselect 2 as a");
    p.model("third", "select 3 as a");
    let run = cio(p.root(), &["compile"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "error[CIO015]: models other (models/other.sql) and Foo (models/x/Foo.sql) both build the relation ANALYTICS.PUBLIC.FOO"
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(
            "error[CIO015]: models Foo (models/x/Foo.sql) and other (models/other.sql) both build the relation ANALYTICS.PUBLIC.Foo"
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("--> models/other.sql:1:11"),
        "{}",
        run.stderr
    );
    let c = p.compile();
    assert_eq!(c.model("third").unwrap().status, ModelStatus::Success);
    // `run` builds neither.
    let sent = run_statements(&c);
    assert_eq!(
        sent.iter()
            .filter(|s| s.starts_with("CREATE OR REPLACE"))
            .count(),
        1,
        "{sent:?}"
    );

    // Quoted, "Foo" and "FOO" are two relations.
    quote_identifiers(&p);
    let c = p.compile();
    assert!(c.succeeded());
    check_run_statements(&c);
}

#[test]
fn item04_a_disabled_model_does_not_clash() {
    let p = TestProject::new();
    p.model("people", "select 1 as a");
    p.model(
        "people_v2",
        "{{ config(alias='PEOPLE', enabled=false) }}\nselect 2 as a",
    );
    assert!(p.compile().succeeded());
}

/// `levels` subqueries, each selecting from the next.
fn nested_subqueries(levels: usize) -> String {
    let mut sql = String::new();
    for _ in 0..levels {
        sql.push_str("select a from (\n");
    }
    sql.push_str("select 1 as a");
    for i in 0..levels {
        sql.push_str(&format!("\n) as t{i}"));
    }
    sql
}

#[test]
fn item13_deeply_nested_subqueries_compile() {
    let p = TestProject::new();
    p.model("nested25", &nested_subqueries(25));
    p.model("nested100", &nested_subqueries(100));
    let run = cio(p.root(), &["compile"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let all = format!("{}{}", run.stdout, run.stderr);
    assert!(all.contains("0 failed, 0 warnings"), "{all}");
    let c = p.compile();
    let columns = c.model("nested100").unwrap().columns();
    assert_eq!(columns.len(), 1);
    assert_eq!(columns[0].name, "A");
}

#[test]
fn item13_nesting_past_the_parser_limit_is_a_warning_not_a_crash() {
    let p = TestProject::new();
    p.model("nested500", &nested_subqueries(500));
    p.model(
        "parens",
        &format!("select {}1{} as x\n", "(".repeat(5000), ")".repeat(5000)),
    );
    let run = cio(p.root(), &["compile"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stderr.matches("warning[CIO161]").count(),
        2,
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("fix the SQL"), "{}", run.stderr);
    assert!(
        run.stderr.contains("nests deeper than the SQL parser goes"),
        "{}",
        run.stderr
    );
    for model in ["nested500", "parens"] {
        assert!(
            p.path(&format!("target/compiled/models/{model}.sql"))
                .exists()
        );
    }
    // Warnings are errors with --warn-error.
    let run = cio(p.root(), &["compile", "--warn-error"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
}

#[test]
fn item14a_alias_with_a_comma_is_not_dynamic() {
    let p = TestProject::new();
    quote_identifiers(&p);
    p.model("sales", "{{ config(alias='sales, eu') }}\nselect 1 as a");
    p.model("down", "select a from {{ ref('sales') }}");
    let c = p.compile();
    assert!(
        c.succeeded(),
        "{}",
        crate::support::render_all(&c.model("sales").unwrap().diagnostics)
    );
    assert_eq!(
        c.model("down").unwrap().sql().unwrap(),
        "select a from ANALYTICS.PUBLIC.\"sales, eu\"\n"
    );
    // Unquoted, the name is refused for what it is, not as a dynamic alias.
    p.file("dbt_project.yml", "name: test_project\n");
    let codes: Vec<&str> = p
        .errors("sales")
        .iter()
        .map(|d| d.code.id())
        .collect::<Vec<_>>();
    assert_eq!(codes, ["CIO014"]);
}

fn emulator_project(database: &str, schema: &str, quoting: &str) -> tempfile::TempDir {
    let server = fakesnow::shared();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("dbt_project.yml"),
        format!("name: names\n{quoting}models:\n  names:\n    +materialized: table\n"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("profiles.yml"),
        format!(
            "names:\n  target: emulator\n  outputs:\n    emulator:\n      type: snowflake\n      account: emulated\n      user: tester\n      password: pw\n      database: {database}\n      schema: {schema}\n      host: {}\n      emulator: fakesnow\n      threads: 1\n      retries: 1\n      statement_timeout_seconds: 60\n",
            server.base_url()
        ),
    )
    .unwrap();
    std::fs::create_dir_all(dir.path().join("models")).unwrap();
    dir
}

/// The tables of `database` on the emulator, as stored.
fn tables(dir: &Path, database: &str) -> Vec<String> {
    let project = cio_sql::project::Project::load(&cio_sql::project::LoadOptions {
        project_dir: dir.to_path_buf(),
        ..Default::default()
    })
    .unwrap();
    let wh = cio_sql::execution::connect::connect(&project.target).unwrap();
    let rows = wh
        .query(&format!(
            "SELECT TABLE_NAME FROM {database}.INFORMATION_SCHEMA.TABLES WHERE TABLE_SCHEMA = 'CUSTOMER_IO' ORDER BY 1"
        ))
        .unwrap();
    let mut names: Vec<String> = rows
        .rows
        .iter()
        .map(|r| r[0].as_str().unwrap().to_string())
        .collect();
    names.sort();
    names
}

#[test]
fn item03_alias_injection_creates_no_table_on_the_emulator() {
    // Quoting off: the model fails to compile; the others are built.
    let dir = emulator_project("HN_INJECT", "CUSTOMER_IO", "");
    std::fs::write(dir.path().join("models/inj.sql"), injection_model()).unwrap();
    std::fs::write(dir.path().join("models/fine.sql"), "select 1 as a").unwrap();
    let run = cio(dir.path(), &["run"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("error[CIO014]"), "{}", run.stderr);
    assert_eq!(tables(dir.path(), "HN_INJECT"), ["FINE"]);

    // Quoting on: one table with that odd name, and nothing else.
    let dir = emulator_project(
        "HN_INJECT_Q",
        "CUSTOMER_IO",
        "quoting: {identifier: true}\n",
    );
    std::fs::write(dir.path().join("models/inj.sql"), injection_model()).unwrap();
    let run = cio(dir.path(), &["run"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let found = tables(dir.path(), "HN_INJECT_Q");
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(!found[0].to_uppercase().starts_with("PWNED"), "{found:?}");
}

#[test]
fn item14b_missing_target_schema_is_named_not_blamed_on_the_model() {
    let dir = emulator_project(
        "HN_SCHEMA",
        "\"no such schema\"",
        "quoting: {schema: true}\n",
    );
    std::fs::write(dir.path().join("models/fine.sql"), "select 1 as a").unwrap();
    let run = cio(dir.path(), &["run"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("`USE SCHEMA \"no such schema\"` failed: the schema `no such schema` of the target does not exist"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("`schema` of the output in profiles.yml"),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("fix the SQL of the model"),
        "{}",
        run.stderr
    );
}

/// Text for a Jinja string literal: any characters, with `\` and `'`
/// escaped.
fn jinja_string(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// A file stem from any text: `/` and NUL cannot be in a file name, and
/// Linux limits names to 255 bytes.
fn file_stem(s: &str) -> String {
    let mut stem: String = s
        .chars()
        .map(|c| if c == '/' || c == '\0' { '_' } else { c })
        .collect();
    while stem.len() > 200 {
        stem.pop();
    }
    if stem.is_empty() || stem == "." || stem == ".." {
        stem.insert(0, 'm');
    }
    stem
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    /// Whatever Unicode the file name, the alias, schema, database and
    /// other config values hold, and with quoting on or off: compile never
    /// panics, and every model it compiles gets statements that each parse
    /// as one statement building that model's relation.
    #[test]
    fn item03_any_name_compiles_to_valid_ddl_or_fails_cleanly(
        stem in "\\PC{0,12}|[a-z_]{1,8}|.{0,8}",
        alias in proptest::option::of(".{0,16}"),
        schema in proptest::option::of("\\PC{0,8}|[a-z]{1,4}"),
        database in proptest::option::of("\\PC{0,8}"),
        tag in ".{0,8}",
        body in "[a-z0-9 ,()'\"+*.;é\\n]{0,24}",
        quote_all in any::<bool>(),
    ) {
        let p = TestProject::new();
        if quote_all {
            p.file("dbt_project.yml", "name: test_project\nquoting: {database: true, schema: true, identifier: true}\n");
        }
        let mut args = vec![format!("tags=[{}]", jinja_string(&tag))];
        for (key, value) in [("alias", &alias), ("schema", &schema), ("database", &database)] {
            if let Some(v) = value {
                args.push(format!("{key}={}", jinja_string(v)));
            }
        }
        let name = file_stem(&stem);
        p.model(&name, &format!("{{{{ config({}) }}}}\nselect 1 as a {body}", args.join(", ")));
        p.model("down", &format!("select * from {{{{ ref({}) }}}}", jinja_string(&name)));
        let c = cio_sql::pipeline::compile(&p.options());
        // A file name that is not a usable model (`.sql`, say) fails the load cleanly.
        let Ok(c) = c else { return Ok(()); };
        for m in &c.models {
            for d in &m.diagnostics {
                let _ = d.render(false);
            }
            if m.status == ModelStatus::Success {
                prop_assert!(p.path(&m.compiled_path).exists(), "{}", m.compiled_path);
            } else {
                prop_assert!(m.diagnostics.iter().any(|d| d.is_error()));
            }
        }
        check_run_statements(&c);
    }
}
