//! Packages (issue 14, item 7): a `packages.yml` listing dbt-nexus compiles
//! with the built-in `nexus` macros and no `deps`; a package installed under
//! `dbt_packages/` is callable as `<package>.<macro>`; a macro of a listed
//! package that is not installed is an error naming the package.

use crate::dbt_seeds::{offline, shop};
use crate::support::copy_dir;
use std::path::Path;

/// The example project (its models call the nexus macros), with `packages`
/// as its packages.yml.
fn example_with(packages: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for entry in ["dbt_project.yml", "profiles.yml", "catalog.yml"] {
        std::fs::copy(root.join(entry), dir.path().join(entry)).unwrap();
    }
    copy_dir(&root.join("models"), &dir.path().join("models"));
    std::fs::write(dir.path().join("packages.yml"), packages).unwrap();
    dir
}

#[test]
fn a_project_listing_dbt_nexus_compiles_with_the_built_in_macros() {
    for listing in [
        "packages:\n  - git: https://github.com/slide-rule-tech/dbt-nexus.git\n    revision: main\n",
        "packages:\n  - package: slide-rule-tech/nexus\n    version: 0.2.0\n",
    ] {
        let dir = example_with(listing);
        let (code, out, err) = offline(dir.path(), &["compile"]);
        assert_eq!(code, 0, "{listing}\n{out}{err}");
        assert!(out.contains(" 0 failed"), "{out}");
        assert!(
            !dir.path().join("dbt_packages").exists(),
            "nothing installed"
        );
    }
    // The fixture lists it too.
    let dir = shop();
    let (code, out, err) = offline(dir.path(), &["compile"]);
    assert_eq!(code, 0, "{out}{err}");
}

#[test]
fn installed_packages_are_callable_and_missing_ones_are_named() {
    let dir = shop();
    let d = dir.path();
    std::fs::write(
        d.join("packages.yml"),
        "packages:\n  - git: https://github.com/slide-rule-tech/dbt-nexus.git\n    revision: main\n  - package: dbt-labs/dbt_utils\n    version: [\">=1.0.0\", \"<2.0.0\"]\n  - local: ../shared-macros\n",
    )
    .unwrap();
    std::fs::create_dir_all(d.join("dbt_packages/shared/macros")).unwrap();
    std::fs::write(
        d.join("dbt_packages/shared/dbt_project.yml"),
        "name: shared_macros\n",
    )
    .unwrap();
    std::fs::write(
        d.join("dbt_packages/shared/macros/cents.sql"),
        "{% macro cents(col) %}({{ col }} * 100)::int{% endmacro %}\n",
    )
    .unwrap();
    std::fs::write(
        d.join("models/in_cents.sql"),
        "select {{ shared_macros.cents('amount') }} as cents from {{ ref('stg_orders') }}",
    )
    .unwrap();
    let (code, out, err) = offline(d, &["compile"]);
    assert_eq!(code, 0, "{out}{err}");
    let sql = std::fs::read_to_string(d.join("target/compiled/models/in_cents.sql")).unwrap();
    assert!(
        sql.starts_with("select (amount * 100)::int as cents"),
        "{sql}"
    );

    std::fs::write(
        d.join("models/starred.sql"),
        "select {{ dbt_utils.star(ref('stg_orders')) }} from {{ ref('stg_orders') }}",
    )
    .unwrap();
    let (code, _, err) = offline(d, &["compile"]);
    assert_ne!(code, 0);
    assert!(
        err.contains("error[CIO047]: dbt_utils.star() is a macro of the package dbt_utils (dbt-labs/dbt_utils, listed at packages.yml:4), which is not installed under dbt_packages/"),
        "{err}"
    );
    assert!(err.contains("--> models/starred.sql:1"), "{err}");
    assert!(
        err.contains("run `dbt deps` once to install dbt_utils"),
        "{err}"
    );
}

#[test]
fn a_bad_packages_file_is_an_error() {
    let dir = shop();
    std::fs::write(
        dir.path().join("packages.yml"),
        "packages:\n  - version: 1\n",
    )
    .unwrap();
    let (code, _, err) = offline(dir.path(), &["compile"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("error[CIO047]") && err.contains("names no package"),
        "{err}"
    );
}
