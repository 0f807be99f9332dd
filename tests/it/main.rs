//! The integration tests, in one binary so the suite links once: a module
//! per area, and one helper mechanism ([`support`]: throw-away projects,
//! the emulator, the binary, the test doubles of the library).
//!
//! Snapshots live in the top-level `snapshots/` folder, named explicitly,
//! so their names do not depend on the module they are asserted in.

mod support;

mod analysis_columns;
mod bad_input;
mod cache;
mod cli;
mod code_table;
mod contract;
mod data_test_configs;
mod data_tests;
mod dbt_ephemeral;
mod dbt_incremental;
mod dbt_packages;
mod dbt_parity;
mod dbt_properties;
mod dbt_seeds;
mod dbt_selectors;
mod destinations_bluecore;
mod destinations_moengage;
mod destinations_rudderstack;
mod emulator_e2e;
mod exact_syncs;
mod exact_syncs_sql;
mod export;
mod hardening_files;
mod hardening_names;
mod hardening_secrets;
mod hardening_seeds;
mod identify;
mod layering;
mod lineage;
mod ls_tests;
mod meta_capi;
mod meta_hash;
mod mistakes;
mod no_panic;
mod profiles_dbt;
mod project;
mod review;
mod source_tests;
mod sync_types;
mod warehouse_emulator;
