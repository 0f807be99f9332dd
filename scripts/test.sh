#!/usr/bin/env bash
# Runs the whole test suite from a fresh clone: formatting check, then every
# unit, snapshot, CLI and emulator test. Tests that need the Snowflake
# emulator install and start it themselves (see tests/it/support/).
#
# Cargo's build folder lives outside the clone so repeated runs reuse it.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cio-sql/target}"
# Snapshot mismatches fail the run; they are never written silently.
export INSTA_UPDATE=no
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo test (target dir: $CARGO_TARGET_DIR)"
cargo test --locked "$@"
