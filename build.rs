//! Embeds every `templates/*.sql` file (the built-in `nexus` macros) into the
//! binary, so new macro files need no code change.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=templates");
    // Read at run time: a build-script binary may be reused for another
    // checkout of the crate sharing the same target folder.
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let dir = Path::new(&manifest_dir).join("templates");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("templates/ folder is missing")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".sql"))
        .collect();
    names.sort();
    let mut code = String::from(
        "/// Built-in macro files: (path, source).\npub const BUILTIN_TEMPLATES: &[(&str, &str)] = &[\n",
    );
    for name in &names {
        println!("cargo:rerun-if-changed=templates/{name}");
        let _ = writeln!(
            code,
            "    (\"templates/{name}\", include_str!({:?})),",
            dir.join(name).display().to_string()
        );
    }
    code.push_str("];\n");
    let out = Path::new(&std::env::var("OUT_DIR").unwrap()).join("builtin_templates.rs");
    std::fs::write(out, code).expect("cannot write builtin_templates.rs");
}
