//! The commands behind `main.rs`: each takes parsed options, runs the
//! library, prints, and returns the process exit code (0 success, 1 a model
//! failed, 2 usage or configuration error).

use crate::compile::{CompileOptions, ModelStatus, compile};
use crate::report::{Output, print_compilation};
use std::time::Instant;

/// `cio-sql compile`.
pub fn compile_command(opts: &CompileOptions, show: bool, out: &Output) -> i32 {
    let started = Instant::now();
    let compilation = match compile(opts) {
        Ok(c) => c,
        Err(d) => return out.fatal(&d),
    };
    let elapsed = started.elapsed().as_millis();
    if show {
        for m in compilation.selected_models() {
            if let (ModelStatus::Success, Some(sql)) = (m.status, &m.sql) {
                if compilation.selected.len() > 1 {
                    println!("-- {} ({})", m.name, m.path);
                }
                print!("{sql}");
                if compilation.selected.len() > 1 {
                    println!();
                }
            }
        }
    }
    let mut timer = crate::timings::PhaseTimer::from_env();
    print_compilation(&compilation, out, elapsed, show);
    timer.lap("report");
    let code = if compilation.succeeded() { 0 } else { 1 };
    drop(compilation);
    timer.lap("free");
    code
}

/// `cio-sql ls`: the selected models, one per line, in dependency order.
pub fn ls_command(opts: &CompileOptions, out: &Output) -> i32 {
    let compilation = match compile(&CompileOptions {
        write: false,
        ..opts.clone()
    }) {
        Ok(c) => c,
        Err(d) => return out.fatal(&d),
    };
    for m in compilation.selected_models() {
        match out.format {
            crate::report::LogFormat::Text => println!(
                "{}\t{}\t{}\t{}",
                m.name,
                m.config.materialized(),
                m.relation,
                m.config.tags().join(",")
            ),
            crate::report::LogFormat::Json => println!(
                "{}",
                serde_json::json!({
                    "name": m.name,
                    "path": m.path,
                    "materialized": m.config.materialized(),
                    "relation": m.relation.to_string(),
                    "tags": m.config.tags(),
                    "depends_on": m.depends_on,
                })
            ),
        }
    }
    0
}
