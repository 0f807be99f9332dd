//! Seeds: CSV files under the seed paths, planned as SQL statements.
//!
//! A seed named like a catalog relation is loaded into that relation, typed
//! from the catalog (columns in catalog order; catalog columns the CSV lacks
//! are NULL). Any other seed goes to the target schema with types inferred
//! from its values. Loading is atomic: rows go into a scratch table first and
//! replace the real table in one `CREATE OR REPLACE TABLE … AS SELECT`.

use crate::catalog::{Catalog, Column, RelationName};
use crate::diagnostics::Diagnostic;
use crate::project::{Project, Quoting, Target};
use crate::render::{Relation, sql};
use std::path::Path;

/// Rows per `INSERT` statement.
pub const INSERT_BATCH: usize = 500;

/// A CSV file read from disk.
#[derive(Debug, Clone)]
pub struct Seed {
    /// Table name: the file stem.
    pub name: String,
    /// Path relative to the project root.
    pub path: String,
    /// Header names.
    pub header: Vec<String>,
    /// Rows; an empty cell is `None` (NULL).
    pub rows: Vec<Vec<Option<String>>>,
}

/// What loading one seed will run.
#[derive(Debug, Clone)]
pub struct SeedPlan {
    /// Seed name.
    pub name: String,
    /// CSV path.
    pub path: String,
    /// Where the rows land.
    pub relation: RelationName,
    /// The table's columns and their SQL types, in order.
    pub columns: Vec<(String, String)>,
    /// Statements, in order.
    pub statements: Vec<String>,
    /// Rows loaded.
    pub rows: usize,
}

/// Reads every `.csv` under the project's seed paths, sorted by path.
pub fn load_seeds(project: &Project) -> Result<Vec<Seed>, Diagnostic> {
    let mut seeds = Vec::new();
    for dir in &project.config.seed_paths {
        let base = project.root.join(dir);
        if !base.is_dir() {
            continue;
        }
        for entry in walkdir::WalkDir::new(&base).sort_by_file_name() {
            let entry = entry.map_err(|e| {
                Diagnostic::error("CIO030", format!("cannot read the seed folder {dir}: {e}"))
                    .with_help("check the seed-paths folders")
            })?;
            let path = entry.path();
            if path.extension().and_then(|e| e.to_str()) != Some("csv")
                || !entry.file_type().is_file()
            {
                continue;
            }
            let rel = path
                .strip_prefix(&project.root)
                .unwrap_or(path)
                .display()
                .to_string();
            seeds.push(read_seed(path, &rel)?);
        }
    }
    Ok(seeds)
}

fn read_seed(path: &Path, rel: &str) -> Result<Seed, Diagnostic> {
    let text = crate::project::read_text(path)?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(text.as_bytes());
    let bad = |e: csv::Error| {
        let line = e.position().map(|p| p.line() as usize);
        let d = Diagnostic::error("CIO030", format!("invalid CSV in {rel}: {e}")).with_help(
            "every row needs as many fields as the header; quote fields that contain commas",
        );
        match line {
            Some(l) => d.at_line(rel, &text, l, None),
            None => d.at_file(rel),
        }
    };
    let header: Vec<String> = reader
        .headers()
        .map_err(bad)?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    if header.is_empty() || header.iter().any(String::is_empty) {
        return Err(Diagnostic::error(
            "CIO030",
            format!("{rel} has an empty column name in its header"),
        )
        .at_line(rel, &text, 1, None)
        .with_help("the first line names every column"));
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(bad)?;
        rows.push(
            record
                .iter()
                .map(|v| {
                    if v.is_empty() {
                        None
                    } else {
                        Some(v.to_string())
                    }
                })
                .collect(),
        );
    }
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(Seed {
        name,
        path: rel.to_string(),
        header,
        rows,
    })
}

/// Plans the statements that load `seed`.
pub fn plan_seed(
    seed: &Seed,
    catalog: &dyn Catalog,
    target: &Target,
    quoting: Quoting,
) -> Result<SeedPlan, Diagnostic> {
    let declared = catalog_relation(catalog, &seed.name, target);
    let (relation, columns): (RelationName, Vec<(String, String)>) = match &declared {
        Some((rel, cols)) => {
            for h in &seed.header {
                if !cols.iter().any(|c| c.name.eq_ignore_ascii_case(h)) {
                    let hint =
                        crate::suggest::did_you_mean(h, cols.iter().map(|c| c.name.as_str()));
                    return Err(Diagnostic::error(
                        "CIO031",
                        format!(
                            "{}: column `{h}` is not a column of {rel} in the catalog",
                            seed.path
                        ),
                    )
                    .at_file(&seed.path)
                    .with_help(format!(
                        "{hint} Rename the CSV column, or add it to the catalog entry of {}",
                        rel.identifier
                    )));
                }
            }
            let typed = cols
                .iter()
                .map(|c| {
                    let values = column_values(seed, &c.name);
                    (c.name.clone(), ddl_type(&c.data_type, &values))
                })
                .collect();
            (rel.clone(), typed)
        }
        None => {
            let rel = RelationName::new(&target.database, &target.schema, &seed.name);
            let typed = seed
                .header
                .iter()
                .map(|h| {
                    let values = column_values(seed, h);
                    (h.clone(), ddl_type(&infer_type(&values), &values))
                })
                .collect();
            (rel, typed)
        }
    };
    let table = Relation {
        name: relation.clone(),
        quoting,
    }
    .render_sql();
    let scratch_name = RelationName::new(
        &relation.database,
        &relation.schema,
        format!("{}__cio_seed_load", relation.identifier),
    );
    let column_names: Vec<String> = columns.iter().map(|(n, _)| n.clone()).collect();
    crate::names::check_seed(
        &seed.path,
        &relation,
        &scratch_name.identifier,
        declared.is_some(),
        &column_names,
        quoting,
    )?;
    let scratch = Relation {
        name: scratch_name,
        quoting,
    }
    .render_sql();
    let schema = Relation {
        name: relation.clone(),
        quoting,
    }
    .schema_sql();
    let mut statements = vec![
        format!("CREATE SCHEMA IF NOT EXISTS {schema}"),
        format!(
            "CREATE OR REPLACE TABLE {scratch} (\n{}\n)",
            columns
                .iter()
                .map(|(n, t)| format!("    {} {t}", sql::identifier(n)))
                .collect::<Vec<_>>()
                .join(",\n")
        ),
    ];
    // CSV column index for every table column (None: absent, NULL).
    let positions: Vec<Option<usize>> = columns
        .iter()
        .map(|(n, _)| seed.header.iter().position(|h| h.eq_ignore_ascii_case(n)))
        .collect();
    let column_list = columns
        .iter()
        .map(|(n, _)| sql::identifier(n))
        .collect::<Vec<_>>()
        .join(", ");
    for (batch_no, batch) in seed.rows.chunks(INSERT_BATCH).enumerate() {
        let mut values = Vec::with_capacity(batch.len());
        for (i, row) in batch.iter().enumerate() {
            let line = batch_no * INSERT_BATCH + i + 2;
            let mut cells = Vec::with_capacity(columns.len());
            for ((name, ty), pos) in columns.iter().zip(&positions) {
                let raw = pos.and_then(|p| row.get(p).cloned().flatten());
                cells.push(literal(raw.as_deref(), ty).map_err(|why| {
                    Diagnostic::error(
                        "CIO032",
                        format!("{} line {line}: column `{name}`: {why}", seed.path),
                    )
                    .at_file(&seed.path)
                    .with_help(format!(
                        "fix the value, or change the column's type in the catalog (now {ty})"
                    ))
                })?);
            }
            values.push(format!("    ({})", cells.join(", ")));
        }
        statements.push(format!(
            "INSERT INTO {scratch} ({column_list}) VALUES\n{}",
            values.join(",\n")
        ));
    }
    statements.push(format!(
        "CREATE OR REPLACE TABLE {table} AS SELECT * FROM {scratch}"
    ));
    statements.push(format!("DROP TABLE IF EXISTS {scratch}"));
    Ok(SeedPlan {
        name: seed.name.clone(),
        path: seed.path.clone(),
        relation,
        columns,
        statements,
        rows: seed.rows.len(),
    })
}

fn catalog_relation(
    catalog: &dyn Catalog,
    name: &str,
    target: &Target,
) -> Option<(RelationName, Vec<Column>)> {
    let relation = catalog.find(name, &target.database, &target.schema)?;
    catalog
        .columns(&relation)
        .map(|cols| (relation.clone(), cols.to_vec()))
}

fn column_values<'a>(seed: &'a Seed, name: &str) -> Vec<&'a str> {
    match seed
        .header
        .iter()
        .position(|h| h.eq_ignore_ascii_case(name))
    {
        Some(p) => seed
            .rows
            .iter()
            .filter_map(|r| r.get(p).and_then(|v| v.as_deref()))
            .collect(),
        None => Vec::new(),
    }
}

fn is_int(v: &str) -> bool {
    let v = v.trim();
    let digits = v.strip_prefix('-').unwrap_or(v);
    !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit())
}

fn is_number(v: &str) -> bool {
    v.trim().parse::<f64>().is_ok_and(f64::is_finite) && !v.trim().is_empty()
}

fn bool_value(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" | "t" | "yes" | "y" | "1" => Some(true),
        "false" | "f" | "no" | "n" | "0" => Some(false),
        _ => None,
    }
}

fn is_date(v: &str) -> bool {
    let b = v.trim().as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

fn is_timestamp(v: &str) -> bool {
    let v = v.trim();
    v.len() >= 19
        && is_date(&v[..10])
        && matches!(v.as_bytes()[10], b' ' | b'T')
        && v.as_bytes()[13] == b':'
}

/// A type for an undeclared seed column, from its values.
fn infer_type(values: &[&str]) -> String {
    let t = if values.is_empty() {
        "VARCHAR"
    } else if values.iter().all(|v| is_int(v)) || values.iter().all(|v| is_number(v)) {
        "NUMBER"
    } else if values
        .iter()
        .all(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "true" | "false"))
    {
        "BOOLEAN"
    } else if values.iter().all(|v| is_timestamp(v)) {
        "TIMESTAMP_NTZ"
    } else if values.iter().all(|v| is_date(v)) {
        "DATE"
    } else {
        "VARCHAR"
    };
    t.to_string()
}

/// The DDL type for a normalised type; NUMBER gets the scale its values need.
fn ddl_type(normalised: &str, values: &[&str]) -> String {
    match normalised {
        "NUMBER" => {
            let scale = values
                .iter()
                .filter_map(|v| v.trim().split_once('.').map(|(_, frac)| frac.len()))
                .max()
                .unwrap_or(0)
                .min(12);
            format!("NUMBER(38, {scale})")
        }
        other => other.to_string(),
    }
}

/// A SQL literal for a CSV cell of type `ty`.
fn literal(raw: Option<&str>, ty: &str) -> Result<String, String> {
    let Some(value) = raw else {
        return Ok("NULL".into());
    };
    let base = ty.split('(').next().unwrap_or(ty);
    match base {
        "NUMBER" | "FLOAT" => {
            if is_number(value) {
                Ok(value.trim().to_string())
            } else {
                Err(format!("`{value}` is not a number"))
            }
        }
        "BOOLEAN" => bool_value(value)
            .map(|b| {
                if b {
                    "TRUE".to_string()
                } else {
                    "FALSE".to_string()
                }
            })
            .ok_or_else(|| format!("`{value}` is not a boolean (true/false)")),
        "TIMESTAMP_NTZ" | "TIMESTAMP_LTZ" | "TIMESTAMP_TZ" | "TIMESTAMP" | "DATE" | "TIME" => Ok(
            format!("CAST({} AS {base})", sql::string_literal(value.trim())),
        ),
        "VARIANT" | "OBJECT" | "ARRAY" | "GEOGRAPHY" | "GEOMETRY" | "BINARY" => {
            Err(format!("seeds cannot load {base} columns yet"))
        }
        _ => Ok(sql::string_literal(value)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::OfflineCatalog;

    fn seed(name: &str, csv_text: &str) -> Seed {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(format!("{name}.csv"));
        std::fs::write(&path, csv_text).unwrap();
        read_seed(&path, &format!("seeds/{name}.csv")).unwrap()
    }

    #[test]
    fn declared_seeds_follow_the_catalog() {
        let catalog = OfflineCatalog::parse(
            "relations:\n  - name: people\n    schema: NEXUS\n    columns:\n      - {name: id, data_type: TEXT}\n      - {name: CamelCase, data_type: TEXT}\n      - {name: ltv, data_type: \"NUMBER(38,2)\"}\n      - {name: seen_at, data_type: TIMESTAMP_NTZ}\n      - {name: ok, data_type: BOOLEAN}\n",
            Path::new("catalog.yml"),
            "DB",
            "CIO",
        )
        .unwrap();
        let s = seed(
            "people",
            "ltv,id,seen_at,ok\n1.5,o'neil,2024-01-02 03:04:05,true\n,x,,0\n",
        );
        let plan = plan_seed(
            &s,
            &catalog,
            &Target::default_target(None),
            Quoting::default(),
        )
        .unwrap();
        assert_eq!(plan.relation.to_string(), "DB.NEXUS.people");
        assert_eq!(plan.statements[0], "CREATE SCHEMA IF NOT EXISTS DB.NEXUS");
        assert_eq!(
            plan.statements[1],
            "CREATE OR REPLACE TABLE DB.NEXUS.people__cio_seed_load (\n    id VARCHAR,\n    \"CamelCase\" VARCHAR,\n    ltv NUMBER(38, 1),\n    seen_at TIMESTAMP_NTZ,\n    ok BOOLEAN\n)"
        );
        assert_eq!(
            plan.statements[2],
            "INSERT INTO DB.NEXUS.people__cio_seed_load (id, \"CamelCase\", ltv, seen_at, ok) VALUES\n    ('o''neil', NULL, 1.5, CAST('2024-01-02 03:04:05' AS TIMESTAMP_NTZ), TRUE),\n    ('x', NULL, NULL, NULL, FALSE)"
        );
        assert_eq!(
            plan.statements[3],
            "CREATE OR REPLACE TABLE DB.NEXUS.people AS SELECT * FROM DB.NEXUS.people__cio_seed_load"
        );
        assert_eq!(
            plan.statements[4],
            "DROP TABLE IF EXISTS DB.NEXUS.people__cio_seed_load"
        );
    }

    #[test]
    fn undeclared_seeds_infer_types() {
        let catalog = OfflineCatalog::empty("catalog.yml");
        let s = seed(
            "codes",
            "code,n,flag,day,at\na,1,true,2024-01-01,2024-01-01 00:00:00\nb,2.25,false,2024-01-02,2024-01-02T10:00:00\n",
        );
        let plan = plan_seed(
            &s,
            &catalog,
            &Target::default_target(None),
            Quoting::default(),
        )
        .unwrap();
        let types: Vec<&str> = plan.columns.iter().map(|(_, t)| t.as_str()).collect();
        assert_eq!(
            types,
            vec![
                "VARCHAR",
                "NUMBER(38, 2)",
                "BOOLEAN",
                "DATE",
                "TIMESTAMP_NTZ"
            ]
        );
        assert_eq!(plan.relation.to_string(), "ANALYTICS.PUBLIC.codes");
    }

    #[test]
    fn bad_values_and_columns_are_reported() {
        let catalog = OfflineCatalog::parse(
            "relations:\n  - name: t\n    columns:\n      - {name: n, data_type: NUMBER}\n",
            Path::new("catalog.yml"),
            "DB",
            "S",
        )
        .unwrap();
        let err = plan_seed(
            &seed("t", "n\n1\nabc\n"),
            &catalog,
            &Target::default_target(None),
            Quoting::default(),
        )
        .unwrap_err();
        assert_eq!(err.code, "CIO032");
        assert!(
            err.message.contains("line 3") && err.message.contains("`abc` is not a number"),
            "{}",
            err.message
        );
        let err = plan_seed(
            &seed("t", "m\n1\n"),
            &catalog,
            &Target::default_target(None),
            Quoting::default(),
        )
        .unwrap_err();
        assert_eq!(err.code, "CIO031");
    }

    #[test]
    fn ragged_csv_names_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.csv");
        std::fs::write(&path, "a,b\n1,2\n3\n").unwrap();
        let err = read_seed(&path, "seeds/x.csv").unwrap_err();
        assert_eq!((err.code, err.line), ("CIO030", Some(3)));
    }

    #[test]
    fn big_seeds_are_batched() {
        let mut text = String::from("n\n");
        for i in 0..1201 {
            text.push_str(&format!("{i}\n"));
        }
        let plan = plan_seed(
            &seed("nums", &text),
            &OfflineCatalog::empty("c"),
            &Target::default_target(None),
            Quoting::default(),
        )
        .unwrap();
        assert_eq!(
            plan.statements
                .iter()
                .filter(|s| s.starts_with("INSERT"))
                .count(),
            3
        );
        assert_eq!(plan.rows, 1201);
    }
}
