#!/usr/bin/env python3
"""Benchmark `cio-sql compile` as a whole process.

Builds the release binary, generates synthetic projects (100, 1,000 and
10,000 models by default) plus a copy of the bundled example project in a
temporary folder, then runs

    cio-sql compile --project-dir DIR --quiet

several times per project and scenario (the first run is a warm-up and is
not counted). The scenarios:

    unchanged  recompile with nothing changed: every model comes from
               target/compile_cache.bin (what an analyst's recompile and a
               CI compile over a cached target/ do)
    edit       one identify model is edited before every run: it is
               rendered, parsed and analysed again, the rest is reused
    no-cache   --no-cache: every model rendered, parsed and analysed, over
               the previous run's target/
    cold       target/ deleted before every run: a first compile, every
               file written anew (not run by default)

Before every run target/manifest.json is deleted, so each run must write it.
Every run must exit 0 and write a fresh target/manifest.json in which every
model compiled, with its compiled SQL file on disk; otherwise the benchmark
stops with an error, so a broken compile can never look fast.

Prints a Markdown table per project: median and min/max wall time, median
CPU time (user + system over all threads, which the load of other processes
moves much less than wall time) and median peak RSS. Uses only the Python
standard library (3.9+, Unix): wall time with time.perf_counter around the
child process, CPU time from os.wait4's rusage of that very child, and peak
RSS from the child's own VmHWM (see run_once).

Usage:
    python3 scripts/bench.py                      # build, then 100/1k/10k + example
    python3 scripts/bench.py --runs 10 --sizes 1000,10000
    python3 scripts/bench.py --binary path/to/cio-sql --keep
    python3 scripts/bench.py --scenarios no-cache --cold
    python3 scripts/bench.py --sizes 1000 --warnings --no-example   # models that warn
"""

import argparse
import json
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# ---------------------------------------------------------------------------
# The synthetic catalog: a 60-column nexus_entities, as dbt-nexus builds it.
# ---------------------------------------------------------------------------

VARCHAR = "VARCHAR(16777216)"
SYSTEM_HEAD = [
    ("entity_id", VARCHAR),
    ("entity_type", VARCHAR),
    ("email", VARCHAR),
    ("first_name", VARCHAR),
    ("last_name", VARCHAR),
    ("phone_number", VARCHAR),
    ("status", VARCHAR),
    ("user_id", VARCHAR),
    ("segment_anonymous_id", VARCHAR),
]
SYSTEM_TAIL = [
    ("traits_entity_id", VARCHAR),
    ("_processed_at", "TIMESTAMP_NTZ(9)"),
    ("_updated_at", "TIMESTAMP_NTZ(9)"),
    ("_created_at", "TIMESTAMP_NTZ(9)"),
    ("_last_merged_at", "TIMESTAMP_NTZ(9)"),
    ("last_interaction_at", "TIMESTAMP_TZ(9)"),
    ("first_interaction_at", "TIMESTAMP_TZ(9)"),
]
TRAIT_TYPES = [
    VARCHAR,
    VARCHAR,
    VARCHAR,
    "NUMBER(38,2)",
    "NUMBER(38,0)",
    "BOOLEAN",
    "DATE",
    "TIMESTAMP_NTZ(9)",
    "FLOAT",
    "VARIANT",
]
TRAIT_WORDS = [
    "company_name", "plan", "lifetime_value", "order_count", "is_subscribed",
    "signup_date", "trial_ends_at", "score", "preferences", "city", "country",
    "region", "postal_code", "language", "timezone", "job_title", "industry",
    "employee_count", "mrr", "arr", "churn_risk", "nps", "is_admin",
    "last_login_date", "last_order_at", "avg_order_value", "favorite_category",
    "utm_source", "utm_campaign", "referrer", "device", "browser",
    "account_tier", "seats", "renewal_date", "health_score", "gender",
    "birthday", "loyalty_points", "referral_code", "marketing_opt_in",
    "last_campaign",
]


def entity_columns():
    """The 60 columns of nexus_entities, in ordinal order: (name, type)."""
    traits = []
    for i, word in enumerate(TRAIT_WORDS):
        traits.append((word, TRAIT_TYPES[i % len(TRAIT_TYPES)]))
    # Names Snowflake stores quoted: mixed case and a space.
    traits.append(("CamelCaseTrait", VARCHAR))
    traits.append(("Preferred Name", VARCHAR))
    cols = SYSTEM_HEAD + traits + SYSTEM_TAIL
    assert len(cols) == 60, len(cols)
    return cols


def catalog_yaml(columns):
    lines = ["relations:", "  - name: nexus_entities", "    schema: NEXUS", "    columns:"]
    for name, dtype in columns:
        lines.append(f'      - {{name: "{name}", data_type: "{dtype}"}}')
    lines += [
        "  - name: high_level_customer_journey",
        "    schema: NEXUS",
        "    columns:",
        "      - {name: entity_id, data_type: VARCHAR(16777216)}",
        "      - {name: state_value, data_type: VARCHAR(16777216)}",
        "      - {name: is_current, data_type: BOOLEAN}",
        "      - {name: state_entered_at, data_type: TIMESTAMP_NTZ(9)}",
    ]
    return "\n".join(lines) + "\n"


PROJECT_YML = """\
name: bench
version: "1.0.0"
config-version: 2
profile: bench
model-paths: ["models"]
macro-paths: ["macros"]
target-path: "target"
catalog-path: "catalog.yml"
models:
  bench:
    +materialized: table
    identify:
      +tags: ["customer_io", "identify"]
    staging:
      +materialized: view
      +tags: ["staging"]
"""

PROFILES_YML = """\
bench:
  target: dev
  outputs:
    dev:
      type: snowflake
      account: bench
      user: bench
      database: ANALYTICS
      schema: CUSTOMER_IO
"""

# ---------------------------------------------------------------------------
# The synthetic models.
# ---------------------------------------------------------------------------

FILTERS = [
    "status = 'active'",
    "email ILIKE '%@example.com'",
    "lifetime_value > 100",
    "is_subscribed",
    "country IN ('US', 'CA', 'GB')",
    "_updated_at >= DATEADD(day, -30, CURRENT_TIMESTAMP())",
    "plan <> 'free'",
]
CHAIN_LENGTH = 10
PLAIN_SHARE = 5  # one model in PLAIN_SHARE is plain SQL in a ref chain


def jinja_list(items):
    return "[" + ", ".join(f"'{i}'" for i in items) + "]"


def identify_model(rng, i, traits, chain_models, warnings=False):
    """A model calling nexus.customer_io_identify with varied arguments.

    With warnings, 80% of the models list an ignore_traits key that matches
    no column, so their compile warns (CIO130)."""
    args = []
    ignored = []
    warns = warnings and rng.random() < 0.8
    if rng.random() < 0.5 or warns:
        ignored = rng.sample(traits, rng.randint(1, 6))
        listed = ignored + (["no_such_trait"] if warns else [])
        args.append("ignore_traits=" + jinja_list(listed))
    if rng.random() < 0.4:
        renamed = rng.sample([t for t in traits if t not in ignored], rng.randint(1, 4))
        pairs = ", ".join(f"'{c}': '{c.replace(' ', '_').lower()}_{i}'" for c in renamed)
        args.append("rename_traits={" + pairs + "}")
    choice = rng.random()
    if choice < 0.2:
        args.append("anonymous_id_column='segment_anonymous_id'")
    elif choice < 0.3:
        args.append("user_id_column='COALESCE(user_id, segment_anonymous_id)'")
    if rng.random() < 0.3:
        args.append("dedupe_column=" + repr(rng.choice(["entity_id", "user_id", "email", "phone_number"])))
    if rng.random() < 0.4:
        args.append("filters=" + repr(rng.sample(FILTERS, rng.randint(1, 3))))
    if rng.random() < 0.1:
        args.append("entity_type='group'")
    if args:
        call = "nexus.customer_io_identify(\n    " + ",\n    ".join(args) + "\n)"
    else:
        call = "nexus.customer_io_identify()"
    head = f"{{#- Synthetic identify model {i}. -#}}\n"
    if rng.random() < 0.15:
        upstream = (
            f"{{{{ ref('{rng.choice(chain_models)}') }}}}"
            if chain_models and rng.random() < 0.5
            else "{{ ref('high_level_customer_journey') }}"
        )
        return (
            head
            + "{{ config(materialized='view') }}\n"
            + f"WITH persons AS (\n{{{{ {call} }}}}\n),\n\n"
            + f"journey AS (\n    SELECT entity_id, state_value\n    FROM {upstream}\n    WHERE is_current\n)\n\n"
            + 'SELECT\n    persons.*,\n    journey.state_value AS "journey_state"\nFROM persons\n'
            + 'INNER JOIN journey\n    ON journey.entity_id = persons."userId"\n'
            + f"WHERE journey.state_value = 'paying_{i % 7}'\n"
        )
    return head + f"{{{{ {call} }}}}\n"


def plain_model(chain, step):
    """A plain SQL model: the head of a chain reads the catalog, the rest ref the previous step."""
    name = f"stg_{chain:04d}_{step:02d}"
    if step == 0:
        source = "{{ ref('high_level_customer_journey') }}"
    else:
        source = f"{{{{ ref('stg_{chain:04d}_{step - 1:02d}') }}}}"
    sql = (
        f"-- Step {step} of chain {chain}.\n"
        "SELECT\n    entity_id,\n    state_value,\n    is_current,\n"
        f"    state_entered_at\nFROM {source}\nWHERE state_entered_at IS NOT NULL\n"
        f"  AND state_value <> 'step_{step}'\n"
    )
    return name, sql


def generate(root, n_models, seed=6, warnings=False):
    """Writes a project of n_models models under root; returns the model count.

    With warnings, most identify models warn (see identify_model)."""
    rng = random.Random(seed * 1_000_003 + n_models)
    columns = entity_columns()
    # Columns that are traits whatever the arguments (not ids, not system columns).
    not_traits = {"entity_id", "entity_type", "user_id", "segment_anonymous_id",
                  "traits_entity_id", "_processed_at", "_updated_at"}
    traits = [name for name, _ in columns if name not in not_traits]
    root.mkdir(parents=True, exist_ok=True)
    (root / "dbt_project.yml").write_text(PROJECT_YML)
    (root / "profiles.yml").write_text(PROFILES_YML)
    (root / "catalog.yml").write_text(catalog_yaml(columns))
    (root / "macros").mkdir(exist_ok=True)

    n_plain = n_models // PLAIN_SHARE
    n_identify = n_models - n_plain
    chain_models = []
    for k in range(n_plain):
        chain, step = divmod(k, CHAIN_LENGTH)
        name, sql = plain_model(chain, step)
        folder = root / "models" / "staging" / f"chain_{chain:04d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{name}.sql").write_text(sql)
        chain_models.append(name)
    for i in range(n_identify):
        folder = root / "models" / "identify" / f"group_{i // 100:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"identify_{i:05d}.sql").write_text(identify_model(rng, i, traits, chain_models, warnings))
    return n_models


def copy_example(dest):
    """Copies the bundled example project (the repository root) to dest."""
    dest.mkdir(parents=True)
    for name in ["dbt_project.yml", "profiles.yml", "catalog.yml"]:
        if (REPO / name).exists():
            shutil.copy(REPO / name, dest / name)
    for name in ["models", "macros"]:
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, dest / name)
    return sum(1 for _ in (dest / "models").rglob("*.sql"))


# ---------------------------------------------------------------------------
# Building and running.
# ---------------------------------------------------------------------------


def build():
    """cargo build --release; returns the path of the cio-sql binary."""
    print("building the release binary (cargo build --release)...", file=sys.stderr)
    out = subprocess.run(
        ["cargo", "build", "--release", "--bin", "cio-sql", "--message-format=json-render-diagnostics"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        check=True,
        text=True,
    ).stdout
    for line in out.splitlines():
        msg = json.loads(line)
        if msg.get("reason") == "compiler-artifact" and msg.get("executable") and msg["target"]["name"] == "cio-sql":
            return Path(msg["executable"])
    sys.exit("cargo did not report the cio-sql executable")


def child_env():
    env = dict(os.environ)
    # The project's own profiles.yml decides the target.
    env.pop("DBT_PROFILES_DIR", None)
    env.pop("CIO_SQL_PROJECT_DIR", None)
    env["NO_COLOR"] = "1"
    # Phase timings on stderr, with the process's peak RSS (VmHWM).
    env["CIO_SQL_TIMINGS"] = "1"
    return env


def run_once(binary, project, env, extra=()):
    """One compile: (wall seconds, CPU seconds, peak RSS in KiB, exit code, stderr).

    Peak RSS is the process's own VmHWM, which `CIO_SQL_TIMINGS=1` makes it
    print (Linux): `ru_maxrss` of a child spawned from Python also counts
    the Python process it was forked from, up to the exec. Elsewhere,
    `ru_maxrss` it is."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [str(binary), "compile", "--project-dir", str(project), "--quiet", *extra],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
    )
    # Read stderr until EOF (the child exits), then reap it with wait4 for its
    # own rusage; getrusage(RUSAGE_CHILDREN) would be a maximum over all runs.
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    proc.stderr.close()
    code = os.waitstatus_to_exitcode(status)
    proc.returncode = code
    cpu = usage.ru_utime + usage.ru_stime
    text = err.decode(errors="replace")
    peaks = [int(m.group(1)) for m in re.finditer(r" peak (\d+) kB", text)]
    if peaks:
        rss_kib = max(peaks)
    else:
        rss_kib = usage.ru_maxrss  # kilobytes on Linux
        if sys.platform == "darwin":
            rss_kib //= 1024  # bytes on macOS
    return wall, cpu, rss_kib, code, text


VERIFY = r"""
import json, sys
from pathlib import Path
project, expected = Path(sys.argv[1]), int(sys.argv[2])
manifest_path = project / "target" / "manifest.json"
if not manifest_path.is_file():
    sys.exit("target/manifest.json was not written")
nodes = json.loads(manifest_path.read_text()).get("nodes", {})
if len(nodes) != expected:
    sys.exit(f"manifest has {len(nodes)} nodes, expected {expected}")
bad = [n["name"] for n in nodes.values() if n.get("status") != "success"]
if bad:
    sys.exit(f"{len(bad)} models did not compile, e.g. {bad[:3]}")
for node in nodes.values():
    compiled = project / node["compiled_path"]
    if not compiled.is_file() or compiled.stat().st_size == 0:
        sys.exit(f"{node['compiled_path']} is missing or empty")
"""


def verify(project, expected_models):
    """Checks the run wrote a manifest in which every model compiled, and its files.

    Runs in a separate Python process: parsing a 10,000-model manifest
    grows a process by hundreds of megabytes, and a child spawned from a
    big process inherits its peak RSS reading (see run_once)."""
    done = subprocess.run(
        [sys.executable, "-c", VERIFY, str(project), str(expected_models)],
        capture_output=True,
        text=True,
    )
    if done.returncode:
        return done.stderr.strip() or f"the manifest check exited {done.returncode}"
    return None


SCENARIOS = ("unchanged", "edit", "no-cache", "cold")


def edited_model(project):
    """The model the `edit` scenario edits: the first identify model, else
    the first model."""
    models = sorted((project / "models").rglob("*.sql"))
    identify = [m for m in models if "nexus.customer_io_identify" in m.read_text()]
    return (identify or models)[0]


def measure(binary, name, project, expected_models, runs, scenario):
    env = child_env()
    walls, cpus, rsss = [], [], []
    extra = ("--no-cache",) if scenario == "no-cache" else ()
    edited = edited_model(project) if scenario == "edit" else None
    original = edited.read_text() if edited else None
    try:
        for i in range(runs + 1):
            if scenario == "cold":
                shutil.rmtree(project / "target", ignore_errors=True)
            if edited:
                edited.write_text(f"{original}\n-- edit {i}\n")
            manifest = project / "target" / "manifest.json"
            if manifest.exists():
                manifest.unlink()
            wall, cpu, rss, code, err = run_once(binary, project, env, extra)
            if code != 0:
                sys.exit(f"{name} ({scenario}): run {i} exited {code}:\n{err}")
            problem = verify(project, expected_models)
            if problem:
                sys.exit(f"{name} ({scenario}): run {i}: {problem}")
            if i > 0:  # run 0 is the warm-up
                walls.append(wall)
                cpus.append(cpu)
                rsss.append(rss)
            print(
                f"  {name} ({scenario}) run {i}{' (warm-up)' if i == 0 else ''}: "
                f"{wall * 1000:.1f} ms wall, {cpu * 1000:.0f} ms CPU, {rss / 1024:.1f} MiB",
                file=sys.stderr,
            )
    finally:
        if edited:
            edited.write_text(original)
    return walls, cpus, rsss


def fmt_ms(seconds):
    ms = seconds * 1000
    return f"{ms:.1f} ms" if ms < 100 else f"{ms:.0f} ms"


def machine():
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f", {int(line.split()[1]) / 1024 / 1024:.1f} GiB RAM"
    except OSError:
        pass
    load = ""
    if hasattr(os, "getloadavg"):
        load = "load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    return f"{os.cpu_count()} CPUs ({cpu}){mem}, {platform.system()} {platform.release()}", load


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7, help="timed runs per project, after one warm-up (default 7)")
    parser.add_argument("--sizes", default="100,1000,10000", help="synthetic project sizes (default 100,1000,10000)")
    parser.add_argument("--binary", type=Path, help="use this cio-sql binary instead of building one")
    parser.add_argument("--no-example", action="store_true", help="skip the bundled example project")
    parser.add_argument(
        "--scenarios",
        default="unchanged,edit,no-cache",
        help="comma-separated, from " + ", ".join(SCENARIOS) + " (default unchanged,edit,no-cache)",
    )
    parser.add_argument("--cold", action="store_true", help="also run the cold scenario")
    parser.add_argument(
        "--warnings",
        action="store_true",
        help="synthetic projects whose identify models mostly warn (CIO130): a cached recompile must replay the warnings",
    )
    parser.add_argument("--keep", action="store_true", help="keep the generated projects and print where they are")
    parser.add_argument("--generate-only", type=Path, metavar="DIR", help="only write the synthetic projects under DIR")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    if args.cold and "cold" not in scenarios:
        scenarios.append("cold")
    for s in scenarios:
        if s not in SCENARIOS:
            sys.exit(f"unknown scenario {s!r}: use {', '.join(SCENARIOS)}")

    if args.generate_only:
        for n in sizes:
            generate(args.generate_only / f"models_{n}", n, warnings=args.warnings)
            print(args.generate_only / f"models_{n}")
        return

    binary = args.binary or build()
    work = Path(tempfile.mkdtemp(prefix="cio-sql-bench-"))
    try:
        projects = []
        if not args.no_example:
            projects.append(("example project", work / "example", copy_example(work / "example")))
        for n in sizes:
            label = f"{n:,} models" + (", most warn" if args.warnings else "")
            projects.append((label, work / f"models_{n}", generate(work / f"models_{n}", n, warnings=args.warnings)))

        info, load_before = machine()
        rows = []
        for name, path, count in projects:
            for scenario in scenarios:
                walls, cpus, rsss = measure(binary, name, path, count, args.runs, scenario)
                rows.append((name, scenario, count, walls, cpus, rsss))
        _, load_after = machine()

        print()
        what = f"`{binary}`" if args.binary else "release build"
        print(f"`cio-sql compile --quiet`, {what}, median of {args.runs} runs after a warm-up.")
        print(f"Machine: {info}; {load_before} before, {load_after} after.")
        print()
        print("| project | scenario | wall (median) | wall (min – max) | CPU user+sys (median) | peak RSS (median) |")
        print("|---|---|---:|---:|---:|---:|")
        for name, scenario, count, walls, cpus, rsss in rows:
            print(
                f"| {name} | {scenario} | {fmt_ms(statistics.median(walls))} "
                f"| {fmt_ms(min(walls))} – {fmt_ms(max(walls))} "
                f"| {fmt_ms(statistics.median(cpus))} "
                f"| {statistics.median(rsss) / 1024:.1f} MiB |"
            )
    finally:
        if args.keep:
            print(f"\nprojects kept in {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
