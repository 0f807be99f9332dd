#!/usr/bin/env bash
# Runs a local fakesnow server (Snowflake emulator) in the foreground, for
# trying cio-sql by hand: point SNOWFLAKE_HOST at the URL it prints.
#
#   scripts/fakesnow.sh [PORT]        (default port 8085; Ctrl-C stops it)
#
# The virtualenv is the one the integration tests use
# ($HOME/.cache/cio-sql/fakesnow-venv, or $CIO_SQL_FAKESNOW_VENV); it is
# created and filled on first use.
set -euo pipefail

port="${1:-8085}"
venv="${CIO_SQL_FAKESNOW_VENV:-$HOME/.cache/cio-sql/fakesnow-venv}"
python="${CIO_SQL_PYTHON:-python3}"
check='import fakesnow, fakesnow.server, uvicorn, starlette, snowflake.connector'

if ! "$venv/bin/python" -c "$check" 2>/dev/null; then
    echo "installing fakesnow into $venv" >&2
    mkdir -p "$(dirname "$venv")"
    [ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
        'fakesnow[server]==0.12.1' 'snowflake-connector-python<5'
fi

echo "fakesnow on http://127.0.0.1:$port (any account, user and password work)" >&2
exec "$venv/bin/fakesnow" -s --host 127.0.0.1 -p "$port"
