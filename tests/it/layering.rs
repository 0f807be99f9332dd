//! The layering of `src/`: every file belongs to a stage (its first path
//! component) or to a shared leaf module, and uses only the stages before
//! it and the leaves; leaves use no stage and only the leaves before them.
//! The table below is the architecture of ARCHITECTURE.md; a new top-level
//! module must be added to it.
//!
//! Each file's `crate::…` paths and `super::…` paths (resolved to the module
//! they name) are read from its source, leaving out comments and test-only
//! code (`#[cfg(test)]` modules and the files they declare), which may use
//! any test support.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Shared leaf modules, in order: each may use the ones before it.
const LEAVES: &[&str] = &[
    "sql",
    "settings",
    "suggest",
    "destinations",
    "diagnostics",
    "redact",
    "report",
    "timings",
    "files",
];

/// The stages, in pipeline order, each with the stages it may use (besides
/// the leaves).
const STAGES: &[(&str, &[&str])] = &[
    ("project", &[]),
    ("catalog", &["project"]),
    ("render", &["project", "catalog"]),
    ("analysis", &["project", "catalog", "render"]),
    ("store", &["project", "catalog", "render", "analysis"]),
    (
        "compile",
        &["project", "catalog", "render", "analysis", "store"],
    ),
    (
        "artifacts",
        &[
            "project", "catalog", "render", "analysis", "store", "compile",
        ],
    ),
    (
        "pipeline",
        &[
            "project",
            "catalog",
            "render",
            "analysis",
            "store",
            "compile",
            "artifacts",
        ],
    ),
    (
        "reports",
        &[
            "project",
            "catalog",
            "render",
            "analysis",
            "store",
            "compile",
            "artifacts",
            "pipeline",
        ],
    ),
    // The Snowflake client knows nothing of projects or compiles.
    ("warehouse", &[]),
    (
        "execution",
        &[
            "project",
            "catalog",
            "render",
            "analysis",
            "store",
            "compile",
            "artifacts",
            "pipeline",
            "reports",
            "warehouse",
        ],
    ),
    (
        "cli",
        &[
            "project",
            "catalog",
            "render",
            "analysis",
            "store",
            "compile",
            "artifacts",
            "pipeline",
            "reports",
            "warehouse",
            "execution",
        ],
    ),
];

/// Why `from` may not use `to` (both top-level modules), if it may not.
fn refused(from: &str, to: &str) -> Option<String> {
    if from == to {
        return None;
    }
    let leaf = |m: &str| LEAVES.iter().position(|l| *l == m);
    let stage = |m: &str| STAGES.iter().find(|(s, _)| *s == m);
    match (leaf(from), leaf(to), stage(from)) {
        (Some(a), Some(b), _) if b < a => None,
        (Some(_), Some(_), _) => Some(format!(
            "leaf `{from}` uses the later leaf `{to}` (leaves: {LEAVES:?})"
        )),
        (Some(_), None, _) => Some(format!("leaf `{from}` uses the stage `{to}`")),
        (None, Some(_), Some(_)) => None,
        (None, None, Some((_, allowed))) if allowed.contains(&to) => None,
        (None, None, Some((_, allowed))) => Some(format!(
            "stage `{from}` uses `{to}`, which is not before it (it may use {allowed:?} and the leaves)"
        )),
        (None, _, None) => Some(format!("`{from}` is in no stage: add it to the table")),
    }
}

/// The module path of a file under `src/` (`src/a/b.rs` → `[a, b]`,
/// `src/a/mod.rs` → `[a]`), and whether it is a `mod.rs`-style file.
fn module_path(rel: &Path) -> (Vec<String>, bool) {
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let file = parts.pop().unwrap_or_default();
    let stem = file.trim_end_matches(".rs").to_string();
    let is_mod = stem == "mod";
    if !is_mod && !(parts.is_empty() && (stem == "lib" || stem == "main")) {
        parts.push(stem);
    }
    (parts, is_mod)
}

/// `text` without comments and without the test module that ends it.
fn code_of(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(at) => &text[..at],
        None => text,
    };
    let mut out = String::new();
    for line in text.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("//") {
            continue;
        }
        // A trailing comment (not `://` inside a string).
        let code = match line.find(" // ") {
            Some(at) => &line[..at],
            None => line,
        };
        out.push_str(code);
        out.push('\n');
    }
    out
}

/// The top-level modules a file at module path `path` refers to.
fn references(path: &[String], code: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let word = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    // `crate::x`, and `crate::{x, y::z}`.
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let group = &group[..group.find('}').unwrap_or(group.len())];
            for item in group.split(',') {
                let w = word(item.trim());
                if !w.is_empty() && w != "self" {
                    out.insert(w);
                }
            }
        } else {
            let w = word(rest);
            if !w.is_empty() {
                out.insert(w);
            }
        }
    }
    // `super::super::x`: resolved against the file's own module path.
    for (at, _) in code.match_indices("super::") {
        let before = &code[..at];
        if before.ends_with("super::") {
            continue;
        }
        let mut rest = &code[at..];
        let mut up = 0;
        while let Some(r) = rest.strip_prefix("super::") {
            up += 1;
            rest = r;
        }
        if up >= path.len() {
            let w = word(rest);
            if !w.is_empty() && w != "self" {
                out.insert(w);
            }
        }
    }
    out
}

/// Files declared with `#[cfg(test)] mod x;`: test-only, with everything
/// below them.
fn test_only_files(src: &Path) -> BTreeSet<PathBuf> {
    let mut out = BTreeSet::new();
    for file in rust_files(src) {
        let text = std::fs::read_to_string(&file).unwrap();
        let dir = if file
            .file_name()
            .is_some_and(|n| n == "mod.rs" || n == "lib.rs")
        {
            file.parent().unwrap().to_path_buf()
        } else {
            file.with_extension("")
        };
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let decl = line
                .trim()
                .trim_start_matches("pub(crate) ")
                .trim_start_matches("pub ");
            let Some(name) = decl.strip_prefix("mod ").and_then(|r| r.strip_suffix(';')) else {
                continue;
            };
            if i > 0 && lines[i - 1].trim() == "#[cfg(test)]" {
                out.insert(dir.join(format!("{name}.rs")));
                out.insert(dir.join(name).join("mod.rs"));
            }
        }
    }
    out
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// Every use of a module a file may not use (`file: why`), and every
/// (stage, stage it uses) pair seen.
fn violations(src: &Path) -> (Vec<String>, BTreeSet<(String, String)>) {
    let test_only = test_only_files(src);
    let mut out = Vec::new();
    let mut edges = BTreeSet::new();
    for file in rust_files(src) {
        if test_only
            .iter()
            .any(|t| file.starts_with(t.with_extension("")) || file == *t)
        {
            continue;
        }
        let rel = file.strip_prefix(src).unwrap();
        let (path, _) = module_path(rel);
        let Some(from) = path.first() else {
            continue; // lib.rs and main.rs sit above every stage.
        };
        let code = code_of(&std::fs::read_to_string(&file).unwrap());
        for to in references(&path, &code) {
            if let Some(why) = refused(from, &to) {
                out.push(format!("{}: {why}", rel.display()));
            }
            edges.insert((from.clone(), to));
        }
    }
    (out, edges)
}

#[test]
fn every_file_uses_only_earlier_stages_and_leaves() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let (found, edges) = violations(&src);
    assert!(found.is_empty(), "layering broken:\n{}", found.join("\n"));
    // The check reads real uses: some it must see.
    for (from, to) in [
        ("execution", "warehouse"),
        ("compile", "render"),
        ("cli", "pipeline"),
        ("render", "sql"),
        ("files", "diagnostics"),
    ] {
        assert!(
            edges.contains(&(from.to_string(), to.to_string())),
            "{from} -> {to} not seen: {edges:?}"
        );
    }
}

#[test]
fn every_top_level_module_is_in_the_table() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut modules: BTreeMap<String, PathBuf> = BTreeMap::new();
    for file in rust_files(&src) {
        let (path, _) = module_path(file.strip_prefix(&src).unwrap());
        if let Some(first) = path.first() {
            modules.entry(first.clone()).or_insert(file);
        }
    }
    for (module, file) in modules {
        let known = LEAVES.contains(&module.as_str()) || STAGES.iter().any(|(s, _)| *s == module);
        assert!(
            known,
            "{} is in no stage of the layering table",
            file.display()
        );
    }
}

#[test]
fn the_check_sees_what_breaks_the_layering() {
    let path = |p: &str| -> Vec<String> { p.split('/').map(str::to_string).collect() };
    let refs = |p: &str, code: &str| references(&path(p), &code_of(code));
    // Backwards: the project stage reaching into the CLI, a leaf into a
    // stage, the warehouse into the compile pipeline.
    let project = refs("project/files", "use crate::cli::ExitStatus;\n");
    assert!(project.iter().any(|to| refused("project", to).is_some()));
    let leaf = refs("sql/column", "use crate::{catalog::Catalog, sql};\n");
    assert_eq!(leaf, BTreeSet::from(["catalog".into(), "sql".into()]));
    assert!(refused("sql", "catalog").is_some());
    assert!(refused("warehouse", "compile").is_some());
    assert!(
        refused("redact", "report").is_some(),
        "a leaf using a later leaf"
    );
    // `super::super::super::x` from three levels down names `x`; fewer
    // stay inside the stage.
    let up = refs(
        "analysis/columns/query",
        "use super::super::super::render::Shared;\nuse super::super::project;\n",
    );
    assert_eq!(up, BTreeSet::from(["render".to_string()]));
    // Comments and test modules do not count; forward uses are fine.
    let quiet = refs(
        "execution/run",
        "// crate::cli\nuse crate::compile::Compilation;\n#[cfg(test)]\nmod tests {\n    use crate::cli;\n}\n",
    );
    assert_eq!(quiet, BTreeSet::from(["compile".to_string()]));
    assert!(refused("execution", "compile").is_none());
    assert!(refused("newstage", "sql").is_some(), "an unknown module");
}
