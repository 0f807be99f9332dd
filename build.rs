//! Embeds every `templates/*.sql` file (the built-in `nexus` macros) into the
//! binary, so new macro files need no code change.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=templates");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
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
            "    (\"templates/{name}\", include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/templates/{name}\"))),"
        );
    }
    code.push_str("];\n");
    let out = Path::new(&std::env::var("OUT_DIR").unwrap()).join("builtin_templates.rs");
    std::fs::write(out, code).expect("cannot write builtin_templates.rs");
}
