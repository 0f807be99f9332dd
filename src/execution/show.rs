//! `cio-sql show`: a model's compiled SQL run with a limit, and the rows
//! printed as a table, CSV or JSON.

use crate::warehouse;

/// The query `show` runs: the model's compiled SQL, limited to `limit` rows.
pub fn preview_query(sql: &str, limit: usize) -> String {
    let body = sql.trim_end().trim_end_matches(';');
    format!("SELECT * FROM (\n{body}\n) AS cio_sql_show LIMIT {limit}")
}

/// How `show` prints rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShowFormat {
    /// An aligned text table.
    Table,
    /// CSV with a header.
    Csv,
    /// One JSON object per row, in a JSON array.
    Json,
}

fn cell(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Renders query rows as a table, CSV or JSON.
pub fn format_rows(rows: &warehouse::Rows, format: ShowFormat) -> String {
    match format {
        ShowFormat::Json => {
            let objects: Vec<serde_json::Map<String, serde_json::Value>> = rows
                .rows
                .iter()
                .map(|r| {
                    rows.columns
                        .iter()
                        .cloned()
                        .zip(r.iter().cloned())
                        .collect()
                })
                .collect();
            format!(
                "{}\n",
                serde_json::to_string_pretty(&objects).unwrap_or_default()
            )
        }
        ShowFormat::Csv => {
            let mut w = csv::Writer::from_writer(Vec::new());
            let _ = w.write_record(&rows.columns);
            for r in &rows.rows {
                let _ = w.write_record(r.iter().map(cell));
            }
            String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
        }
        ShowFormat::Table => {
            let cells: Vec<Vec<String>> = rows
                .rows
                .iter()
                .map(|r| {
                    r.iter()
                        .map(|v| if v.is_null() { "NULL".into() } else { cell(v) })
                        .collect()
                })
                .collect();
            let widths: Vec<usize> = rows
                .columns
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    cells
                        .iter()
                        .map(|r| r.get(i).map_or(0, |s| s.chars().count()))
                        .max()
                        .unwrap_or(0)
                        .max(c.chars().count())
                })
                .collect();
            let line = |values: &[String]| -> String {
                let parts: Vec<String> = values
                    .iter()
                    .zip(&widths)
                    .map(|(v, w)| format!("{v:<w$}"))
                    .collect();
                format!("| {} |\n", parts.join(" | "))
            };
            let mut text = line(&rows.columns);
            text.push_str(&format!(
                "|{}|\n",
                widths
                    .iter()
                    .map(|w| "-".repeat(w + 2))
                    .collect::<Vec<_>>()
                    .join("|")
            ));
            for r in &cells {
                text.push_str(&line(r));
            }
            text.push_str(&format!(
                "({} row{})\n",
                rows.rows.len(),
                if rows.rows.len() == 1 { "" } else { "s" }
            ));
            text
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_format_aligns() {
        let rows = warehouse::Rows {
            columns: vec!["userId".into(), "n".into()],
            rows: vec![
                vec![serde_json::json!("u1"), serde_json::json!(10)],
                vec![serde_json::json!(null), serde_json::json!(2)],
            ],
            query_id: None,
        };
        assert_eq!(
            format_rows(&rows, ShowFormat::Table),
            "| userId | n  |\n|--------|----|\n| u1     | 10 |\n| NULL   | 2  |\n(2 rows)\n"
        );
        assert_eq!(format_rows(&rows, ShowFormat::Csv), "userId,n\nu1,10\n,2\n");
    }
}
