//! dbt packages: the `packages.yml` (or `dependencies.yml`) list, and the
//! packages installed under `dbt_packages/` (dbt's `packages-install-path`)
//! whose macros are callable as `<package>.<macro>(…)`. cio-sql installs
//! nothing (there is no `deps`): dbt-nexus is built in (its `nexus` macros
//! are cio-sql's own, see `templates/`), so a project that lists it compiles
//! as it is; any other package must have been installed (by `dbt deps`),
//! and a call of a macro of one that is not is an error naming it (CIO047).
//! See dbt's "Packages" (<https://docs.getdbt.com/docs/build/packages>).

use super::{MacroFile, macro_names, read_text, relative};
use crate::diagnostics::Diagnostic;
use crate::diagnostics::codes;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The package name of dbt-nexus (its `dbt_project.yml` says `name: "nexus"`).
pub const NEXUS: &str = "nexus";

/// A package the project lists.
#[derive(Debug, Clone)]
pub struct Package {
    /// Its name as macros call it (`dbt_utils` in `dbt_utils.star(…)`).
    pub name: String,
    /// How it is listed: `dbt-labs/dbt_utils`, a git URL, a local path.
    pub spec: String,
    /// The file that lists it, relative to the project.
    pub file: String,
    /// The 1-based line of its entry.
    pub line: usize,
    /// Its macro files, when it is installed (never for nexus, built in).
    pub installed: Option<Vec<MacroFile>>,
}

impl Package {
    /// True for dbt-nexus, whose macros cio-sql has built in.
    pub fn is_nexus(&self) -> bool {
        self.name == NEXUS
    }
}

/// The name a package entry gives: a hub package's name after the `/`, a
/// git repository's name, a local folder's; `-` read as `_`, and
/// `dbt-nexus`/`dbt_nexus` as nexus.
fn entry_name(entry: &serde_json::Map<String, Value>) -> Option<(String, String)> {
    let (spec, raw) = if let Some(p) = entry.get("package").and_then(Value::as_str) {
        (p.to_string(), p.rsplit('/').next().unwrap_or(p).to_string())
    } else if let Some(g) = entry.get("git").and_then(Value::as_str) {
        let last = g
            .trim_end_matches('/')
            .rsplit(['/', ':'])
            .next()
            .unwrap_or(g);
        let sub = entry.get("subdirectory").and_then(Value::as_str);
        let name = sub
            .and_then(|s| s.trim_end_matches('/').rsplit('/').next())
            .unwrap_or(last);
        (g.to_string(), name.trim_end_matches(".git").to_string())
    } else if let Some(l) = entry.get("local").and_then(Value::as_str) {
        let name = l.trim_end_matches('/').rsplit('/').next().unwrap_or(l);
        (l.to_string(), name.to_string())
    } else if let Some(t) = entry.get("tarball").and_then(Value::as_str) {
        let name = entry.get("name").and_then(Value::as_str).unwrap_or(t);
        (t.to_string(), name.to_string())
    } else {
        return None;
    };
    let name = raw.replace('-', "_").to_lowercase();
    let name = if name == "dbt_nexus" {
        NEXUS.to_string()
    } else {
        name
    };
    Some((spec, name))
}

/// The name in a package folder's `dbt_project.yml` and its macro paths.
fn installed_project(dir: &Path) -> Option<(String, Vec<String>)> {
    let text = std::fs::read_to_string(dir.join(super::PROJECT_FILE)).ok()?;
    let value: serde_yaml::Value = serde_yaml::from_str(&text).ok()?;
    let name = value.get("name")?.as_str()?.to_string();
    let macro_paths = value
        .get("macro-paths")
        .and_then(|v| v.as_sequence())
        .map(|s| {
            s.iter()
                .filter_map(|p| p.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_else(|| vec!["macros".to_string()]);
    Some((name, macro_paths))
}

/// The packages `packages.yml` (else `dependencies.yml`) lists, each with
/// its macros when installed under `install_path`.
pub(super) fn load_packages(root: &Path, install_path: &str) -> Result<Vec<Package>, Diagnostic> {
    let Some(path) = ["packages.yml", "dependencies.yml"]
        .iter()
        .map(|f| root.join(f))
        .find(|p| p.is_file())
    else {
        return Ok(Vec::new());
    };
    let rel = relative(root, &path);
    let text = read_text(&path)?;
    let help = "list packages as packages:\n  - package: dbt-labs/dbt_utils\n    version: [\">=1.0.0\"]\n  - git: https://github.com/slide-rule-tech/dbt-nexus.git";
    let value: serde_yaml::Value = serde_yaml::from_str(&text).map_err(|e| {
        Diagnostic::yaml_error(codes::PACKAGE_MISSING, Path::new(&rel), &text, &e).with_help(help)
    })?;
    let json = serde_json::to_value(&value).unwrap_or(Value::Null);
    let entries = match json.get("packages") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items.clone(),
        Some(_) => {
            return Err(Diagnostic::error(
                codes::PACKAGE_MISSING,
                format!("`packages:` in {rel} is not a list"),
            )
            .at_file(&rel)
            .with_help(help));
        }
    };
    // The line of each entry: the lines that start a list item, in order.
    let item_lines: Vec<usize> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| {
            let t = l.trim_start();
            ["- package:", "- git:", "- local:", "- tarball:", "- name:"]
                .iter()
                .any(|k| t.starts_with(k))
        })
        .map(|(i, _)| i + 1)
        .collect();
    // Installed packages by their project name.
    let mut installed: Vec<(String, PathBuf, Vec<String>)> = Vec::new();
    let base = root.join(install_path);
    if let Ok(dirs) = std::fs::read_dir(&base) {
        let mut dirs: Vec<PathBuf> = dirs.filter_map(|d| d.ok().map(|d| d.path())).collect();
        dirs.sort();
        for dir in dirs.into_iter().filter(|d| d.is_dir()) {
            if let Some((name, paths)) = installed_project(&dir) {
                installed.push((name, dir, paths));
            }
        }
    }
    let mut out = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let line = item_lines.get(i).copied().unwrap_or(1);
        let Some((spec, mut name)) = entry.as_object().and_then(entry_name) else {
            return Err(Diagnostic::error(
                codes::PACKAGE_MISSING,
                format!("entry {} of `packages:` in {rel} names no package", i + 1),
            )
            .at_line(Path::new(&rel), &text, line, None)
            .with_help(help));
        };
        // A local package's own project file names it.
        if let Some(local) = entry.get("local").and_then(Value::as_str)
            && let Some((n, _)) = installed_project(&root.join(local))
        {
            name = n;
        }
        let found = installed.iter().find(|(n, dir, _)| {
            *n == name || dir.file_name().is_some_and(|f| f.to_string_lossy() == name)
        });
        let macros = match found {
            Some((n, dir, paths)) if name != NEXUS => {
                name = n.clone();
                Some(package_macros(root, dir, paths)?)
            }
            _ => None,
        };
        out.push(Package {
            name,
            spec,
            file: rel.clone(),
            line,
            installed: macros,
        });
    }
    Ok(out)
}

/// The macro files of the package installed in `dir`.
fn package_macros(root: &Path, dir: &Path, paths: &[String]) -> Result<Vec<MacroFile>, Diagnostic> {
    let mut files = Vec::new();
    for p in paths {
        for path in super::files::files_with_extension(&dir.join(p), "sql")? {
            let source = super::files::generic_tests_as_macros(read_text(&path)?);
            files.push(MacroFile {
                path: relative(root, &path),
                macros: macro_names(&source),
                source,
            });
        }
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(yaml: &str) -> Option<String> {
        let v: Value = serde_yaml::from_str(yaml).unwrap();
        entry_name(v.as_object().unwrap()).map(|(_, n)| n)
    }

    #[test]
    fn entry_names() {
        assert_eq!(
            name("package: dbt-labs/dbt_utils").as_deref(),
            Some("dbt_utils")
        );
        assert_eq!(
            name("git: https://github.com/slide-rule-tech/dbt-nexus.git").as_deref(),
            Some("nexus")
        );
        assert_eq!(
            name("git: git@github.com:org/dbt-codegen.git").as_deref(),
            Some("dbt_codegen")
        );
        assert_eq!(
            name("local: ../shared/my-macros").as_deref(),
            Some("my_macros")
        );
        assert_eq!(name("version: 1"), None);
    }
}
