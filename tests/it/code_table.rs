//! README.md's table of diagnostic codes is the registry
//! (`src/diagnostics/codes.rs`), row for row: every code, no other, in
//! order, with the same kind and meaning.

use cio_sql::diagnostics::codes::{ALL, Code};

/// The rows of the README's code table: (code, kind, meaning).
fn readme_rows() -> Vec<(String, String, String)> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let header = "| code | kind | meaning |\n|---|---|---|\n";
    let at = readme
        .find(header)
        .expect("README.md has the code table (| code | kind | meaning |)");
    readme[at + header.len()..]
        .lines()
        .take_while(|l| l.starts_with('|'))
        .map(|line| {
            let cells: Vec<&str> = line
                .trim_matches('|')
                .splitn(3, " | ")
                .map(str::trim)
                .collect();
            assert_eq!(cells.len(), 3, "a row of three cells: {line}");
            (cells[0].into(), cells[1].into(), cells[2].into())
        })
        .collect()
}

#[test]
fn the_readme_code_table_is_the_registry() {
    let rows = readme_rows();
    let registry: Vec<(String, String, String)> = ALL
        .iter()
        .map(|c| (c.id().into(), c.kind().label().into(), c.meaning().into()))
        .collect();
    for (row, code) in rows.iter().zip(&registry) {
        assert_eq!(row, code, "README row vs registry");
    }
    assert_eq!(
        rows.len(),
        registry.len(),
        "the README lists {} codes, the registry {}",
        rows.len(),
        registry.len()
    );
    for (id, _, _) in &rows {
        assert!(Code::lookup(id).is_some(), "{id} is not in the registry");
    }
}

#[test]
fn every_code_the_sources_name_is_in_the_registry() {
    // A code written anywhere in src/ (a message, a comment, a test) must
    // exist.
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut stack = vec![src];
    let mut unknown = Vec::new();
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.ends_with("diagnostics/codes.rs") {
                continue; // the registry itself (its tests name a code it lacks)
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let bytes = text.as_bytes();
            for (at, _) in text.match_indices("CIO") {
                let digits = &bytes[at + 3..(at + 6).min(bytes.len())];
                let after = bytes.get(at + 6).copied().unwrap_or(b' ');
                if digits.len() == 3
                    && digits.iter().all(u8::is_ascii_digit)
                    && !after.is_ascii_digit()
                {
                    let id = &text[at..at + 6];
                    if Code::lookup(id).is_none() {
                        unknown.push(format!("{}: {id}", path.display()));
                    }
                }
            }
        }
    }
    assert!(
        unknown.is_empty(),
        "codes not in the registry:\n{}",
        unknown.join("\n")
    );
}
