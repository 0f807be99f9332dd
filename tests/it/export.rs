//! `cio-sql export` (issue 16, item 4), end to end on the emulator through
//! the binary: every file written is checked against its JSON schema in
//! `schemas/`, batch limits on tables big enough to need several files,
//! `--since` on a change-tracked table, and the bad inputs.

use crate::emulator_e2e::example_project;
use crate::support::emulator_cli::{Run, cio, connect, query, small_project};
use crate::support::fakesnow;
use cio_sql::warehouse::Warehouse;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn schema(name: &str) -> jsonschema::Validator {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("schemas")
        .join(format!("{name}.schema.json"));
    let value: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    jsonschema::validator_for(&value).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Fails the test unless `doc` is valid against `validator`.
fn assert_valid(validator: &jsonschema::Validator, doc: &Value, what: &str) {
    let errors: Vec<String> = validator
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .take(5)
        .collect();
    assert!(
        errors.is_empty(),
        "{what} is not valid:\n{}",
        errors.join("\n")
    );
}

/// The schema each destination format's files follow.
const SCHEMAS: [(&str, &str); 3] = [
    ("customerio", "customerio_v2_batch"),
    ("meta_capi", "meta_capi_events"),
    ("moengage", "moengage_bulk_import"),
];

#[test]
fn schemas_accept_their_valid_samples_and_refuse_the_invalid_ones() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas");
    for (_, name) in SCHEMAS {
        let validator = schema(name);
        let mut seen = (0, 0);
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let file = path.file_name().unwrap().to_string_lossy().into_owned();
            if !file.starts_with(&format!("{name}.")) || file.ends_with(".schema.json") {
                continue;
            }
            let doc: Value =
                serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            if file.ends_with(".invalid.json") {
                assert!(!validator.is_valid(&doc), "{file} should be refused");
                seen.1 += 1;
            } else {
                assert_valid(&validator, &doc, &file);
                seen.0 += 1;
            }
        }
        assert!(seen.0 >= 1 && seen.1 >= 5, "{name}: samples {seen:?}");
    }
}

/// The files of an export of `model` in `out`, in order.
fn files_of(out: &Path, model: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(&format!("{model}-"))
        })
        .collect();
    files.sort();
    files
}

/// `cio-sql export MODEL --out OUT EXTRA…` on the project in `dir`.
fn export(dir: &Path, model: &str, out: &Path, extra: &[&str]) -> Run {
    let mut args = vec!["export", model, "--out", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    cio(dir, &args)
}

fn ok(run: &Run) {
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
}

/// Exports `model` into `out` with `extra` flags, checks every file
/// against the format's schema and size limit, and returns the items of
/// every file (operations, events, elements) in order.
fn export_valid(dir: &Path, model: &str, out: &Path, format: &str) -> Vec<Vec<Value>> {
    let run = export(dir, model, out, &["--format", format]);
    ok(&run);
    let (_, name) = SCHEMAS.iter().find(|(f, _)| *f == format).unwrap();
    let validator = schema(name);
    let (list, max_bytes, max_items) = match format {
        "customerio" => ("batch", 500_000 - 1, usize::MAX),
        "meta_capi" => ("data", usize::MAX, 1_000),
        _ => ("elements", 100_000, usize::MAX),
    };
    files_of(out, model)
        .iter()
        .map(|path| {
            let text = std::fs::read_to_string(path).unwrap();
            assert!(
                text.len() <= max_bytes,
                "{}: {} bytes",
                path.display(),
                text.len()
            );
            let doc: Value = serde_json::from_str(&text).unwrap();
            assert_valid(&validator, &doc, &path.display().to_string());
            let items = doc[list].as_array().unwrap().clone();
            assert!(items.len() <= max_items, "{}", path.display());
            if format == "customerio" {
                for op in &items {
                    assert!(serde_json::to_vec(op).unwrap().len() <= 32 * 1024);
                }
            }
            items
        })
        .collect()
}

fn count(wh: &dyn Warehouse, relation: &str) -> usize {
    let rows = query(wh, &format!("SELECT COUNT(*) FROM {relation}"));
    rows.rows[0][0].as_u64().unwrap() as usize
}

#[test]
fn the_example_sync_tables_export_in_every_format_that_fits() {
    let server = fakesnow::shared();
    let project = example_project("E2E_EXPORT", &server.base_url());
    let dir = project.path();
    ok(&cio(dir, &["build"]));
    let wh = connect(dir);
    let out = dir.join("out");
    for (model, action) in [
        ("customer_io_persons", "identify"),
        ("customer_io_events", "event"),
        ("customer_io_locations", "identify"),
        ("customer_io_location_relationships", "add_relationships"),
    ] {
        let items: Vec<Value> = export_valid(dir, model, &out, "customerio")
            .into_iter()
            .flatten()
            .collect();
        let rows = count(wh.as_ref(), &format!("E2E_EXPORT.CUSTOMER_IO.{model}"));
        assert_eq!(items.len(), rows, "{model}: one operation per row");
        assert!(
            items.iter().all(|op| op["action"] == action),
            "{model}: {items:?}"
        );
    }
    // Timestamps reach Customer.io as Unix seconds.
    let persons: Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("customer_io_persons-00001.json")).unwrap(),
    )
    .unwrap();
    assert!(persons["batch"][0]["timestamp"].is_i64(), "{persons}");

    // csv and jsonl: one record per row, the columns of the table.
    let plain = dir.join("plain");
    for format in ["csv", "jsonl"] {
        let run = export(dir, "customer_io_events", &plain, &["--format", format]);
        ok(&run);
        let text =
            std::fs::read_to_string(plain.join(format!("customer_io_events-00001.{format}")))
                .unwrap();
        let rows = count(wh.as_ref(), "E2E_EXPORT.CUSTOMER_IO.customer_io_events");
        if format == "csv" {
            let mut reader = csv::Reader::from_reader(text.as_bytes());
            let header = reader.headers().unwrap().clone();
            assert!(header.iter().any(|h| h == "event_id"), "{header:?}");
            assert!(!header.iter().any(|h| h == "__cio_sql_hash"), "{header:?}");
            assert_eq!(reader.records().count(), rows);
        } else {
            let lines: Vec<Value> = text
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect();
            assert_eq!(lines.len(), rows);
            assert!(lines.iter().all(|l| l["event"].is_string()));
        }
        // The summary names rows, files and bytes.
        assert!(
            run.stdout.contains(&format!("Exported {rows} rows")) && run.stdout.contains("bytes"),
            "{}",
            run.stdout
        );
    }
    // --log-format json: the summary as an event.
    let run = export(
        dir,
        "customer_io_locations",
        &dir.join("json"),
        &["--log-format", "json"],
    );
    ok(&run);
    let event: Value = run
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v["event"] == "export")
        .unwrap_or_else(|| panic!("{}", run.stdout));
    assert_eq!(event["format"], "customerio");
    assert_eq!(event["files"].as_array().unwrap().len(), 1);

    // A file in the way: refused, named, left as it was.
    let before = std::fs::read(out.join("customer_io_persons-00001.json")).unwrap();
    let run = export(dir, "customer_io_persons", &out, &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("CIO314") && run.stderr.contains("customer_io_persons-00001.json"),
        "{}",
        run.stderr
    );
    assert_eq!(
        std::fs::read(out.join("customer_io_persons-00001.json")).unwrap(),
        before
    );
    // A format the sync type cannot be written as: the ones that fit.
    let run = export(
        dir,
        "customer_io_persons",
        &dir.join("x"),
        &["--format", "meta_capi"],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("CIO312") && run.stderr.contains("--format customerio"),
        "{}",
        run.stderr
    );
    // An unknown format, an unknown model.
    let run = export(
        dir,
        "customer_io_persons",
        &dir.join("x"),
        &["--format", "xml"],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("jsonl"), "{}", run.stderr);
    let run = export(dir, "no_such_model", &dir.join("x"), &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("no_such_model"), "{}", run.stderr);
    assert!(!dir.join("x").exists(), "nothing written");
}

/// An identify model of `n` generated people (`--vars '{n: N, pad: P}'`),
/// each with a `pad` attribute of P characters.
const PEOPLE: &str = "{{ config(cio_sync='identify') }}\nselect 'u' || seq4() as \"userId\", repeat('x', {{ var('pad', 10) }}) as \"pad\", 'pro' as \"plan\"\nfrom table(generator(rowcount => {{ var('n', 3) }}))\n";

fn vars(n: usize, pad: usize) -> String {
    format!("{{n: {n}, pad: {pad}}}")
}

#[test]
fn big_tables_are_split_at_each_destination_limit() {
    let server = fakesnow::shared();
    let meta_model =
        "{{ config(cio_destination='meta_capi', cio_sync='events') }}\nselect 1 as \"event_id\"\n";
    let moe_users =
        "{{ config(cio_destination='moengage', cio_sync='users') }}\nselect 1 as \"customer_id\"\n";
    let moe_events = "{{ config(cio_destination='moengage', cio_sync='events') }}\nselect 1 as \"customer_id\"\n";
    let project = small_project(
        "E2E_EXPORT_BIG",
        &server.base_url(),
        &[
            ("people", PEOPLE),
            ("meta_events", meta_model),
            ("moe_users", moe_users),
            ("moe_events", moe_events),
        ],
    );
    let dir = project.path();
    ok(&cio(
        dir,
        &["build", "-s", "people", "--vars", &vars(3_000, 300)],
    ));
    let out = dir.join("out");
    let files = export_valid(dir, "people", &out, "customerio");
    assert!(files.len() >= 2, "{} files", files.len());
    assert_eq!(files.iter().map(Vec::len).sum::<usize>(), 3_000);

    // The Meta and MoEngage tables, made as the layouts have them.
    let wh = connect(dir);
    let gen_rows = |n: usize| format!("FROM TABLE(GENERATOR(ROWCOUNT => {n}))");
    for sql in [
        format!(
            "CREATE OR REPLACE TABLE E2E_EXPORT_BIG.CUSTOMER_IO.META_EVENTS AS SELECT 'Purchase' AS \"event_name\", 1767225600 + seq4() AS \"event_time\", 'e' || seq4() AS \"event_id\", 'website' AS \"action_source\", 'https://shop.example.com/thanks' AS \"event_source_url\", SHA2('ann@example.com', 256) AS \"em\", NULL AS \"ph\", 'Mozilla/5.0' AS \"client_user_agent\", 12.5 AS \"value\", 'EUR' AS \"currency\", 'sku-' || seq4() AS \"content_name\" {}",
            gen_rows(2_500)
        ),
        format!(
            "CREATE OR REPLACE TABLE E2E_EXPORT_BIG.CUSTOMER_IO.MOE_USERS AS SELECT 'c' || seq4() AS \"customer_id\", 'Ann ' || seq4() AS \"name\", REPEAT('y', 100) AS \"bio\", TO_TIMESTAMP_NTZ(1700000000) AS \"signed_up_at\" {}",
            gen_rows(3_000)
        ),
        format!(
            "CREATE OR REPLACE TABLE E2E_EXPORT_BIG.CUSTOMER_IO.MOE_EVENTS AS SELECT 'c' || seq4() AS \"customer_id\", 'ev' || seq4() AS \"event_id\", 'Bought' AS \"action\", 1700000000 + seq4() AS \"event_time\", 'web' AS \"platform\", 'sku' AS \"sku\" {}",
            gen_rows(3_000)
        ),
    ] {
        wh.execute(&sql).unwrap_or_else(|e| panic!("{sql}\n{e}"));
    }
    let meta = export_valid(dir, "meta_events", &out, "meta_capi");
    assert_eq!(
        meta.iter().map(Vec::len).collect::<Vec<_>>(),
        [1_000, 1_000, 500]
    );
    let first = &meta[0][0];
    assert!(first["user_data"]["em"].is_string() && first["user_data"].get("ph").is_none());
    assert_eq!(first["custom_data"]["currency"], "EUR");
    assert!(first["custom_data"].get("em").is_none());

    for model in ["moe_users", "moe_events"] {
        let files = export_valid(dir, model, &out, "moengage");
        assert!(files.len() >= 2, "{model}: {} files", files.len());
        assert_eq!(files.iter().map(Vec::len).sum::<usize>(), 3_000);
    }

    // One operation over Customer.io's 32 KB: an error naming the row.
    // (`run`: the contract tests would fail the 1,000-byte value limit.)
    ok(&cio(
        dir,
        &[
            "run",
            "-s",
            "people",
            "--allow-mass-delete",
            "--vars",
            &vars(1, 40_000),
        ],
    ));
    let run = export(dir, "people", &dir.join("huge"), &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("CIO315") && run.stderr.contains("u0"),
        "{}",
        run.stderr
    );
    assert!(
        !dir.join("huge").exists() || files_of(&dir.join("huge"), "people").is_empty(),
        "a failed export leaves no file"
    );
}

fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[test]
fn since_exports_what_changed_deletes_included() {
    let server = fakesnow::shared();
    let plain = "select 1 as \"n\"\n";
    let project = small_project(
        "E2E_EXPORT_SINCE",
        &server.base_url(),
        &[("people", PEOPLE), ("plain", plain), ("never_built", plain)],
    );
    let dir = project.path();
    ok(&cio(
        dir,
        &["build", "-s", "people", "plain", "--vars", &vars(3, 5)],
    ));
    std::thread::sleep(Duration::from_millis(1100));
    let cursor = now_unix();
    std::thread::sleep(Duration::from_millis(1100));
    ok(&cio(dir, &["build", "-s", "people", "--vars", &vars(2, 5)]));

    let out = dir.join("out");
    let run = export(dir, "people", &out, &["--since", &cursor.to_string()]);
    ok(&run);
    let items: Vec<Value> = std::fs::read_dir(&out)
        .unwrap()
        .flat_map(|e| {
            let doc: Value =
                serde_json::from_str(&std::fs::read_to_string(e.unwrap().path()).unwrap()).unwrap();
            doc["batch"].as_array().unwrap().clone()
        })
        .collect();
    assert_eq!(
        items,
        [serde_json::json!({"type": "person", "identifiers": {"id": "u2"}, "action": "delete"})],
        "only the person that vanished"
    );
    // Without --since: every row, the tombstone too.
    let all = export_valid(dir, "people", &dir.join("all"), "customerio");
    assert_eq!(all.concat().len(), 3);

    // --since on a table without change tracking.
    let run = export(dir, "plain", &dir.join("x"), &["--since", "0"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("CIO313"), "{}", run.stderr);
    // A model never built: the fix is to build it.
    let run = export(dir, "never_built", &dir.join("x"), &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("CIO311") && run.stderr.contains("cio-sql build -s never_built"),
        "{}",
        run.stderr
    );
    assert!(!dir.join("x").exists());
}
