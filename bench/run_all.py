"""Run every bench/ script at one scale on PostgreSQL and write the benchmark table.

    .venv/bin/python bench/run_all.py [--scale default|large|smoke] [--only inbox,imports,...]

Scales: ``default`` is 1,000,000 tickets for the inbox, 1,000,000 purchase rows for the
import, 100,000 customers for the segmentation, 200 rules on 10,000 tickets for routing;
``large`` is the same with 1,000,000 customers for the segmentation; ``smoke`` is a small run
that checks the plumbing in a few minutes and writes its table to bench/results/ only. Each
script runs in its own process and its own database (hd_bench_<name>, the size appended when
it is not the default's, so data built at each size is reused); its output goes to
bench/results/<name>.log and its last ``RESULT key=value ...`` line becomes rows of
docs/benchmarks.md (see bench/report.py).
A script that is missing or fails gets a row that says so.
"""

import argparse
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import report

SCALES = {
    "default": {"tickets": 1_000_000, "rows": 1_000_000, "customers": 100_000, "routed": 10_000},
    "large": {"tickets": 1_000_000, "rows": 1_000_000, "customers": 1_000_000, "routed": 10_000},
    "smoke": {"tickets": 10_000, "rows": 50_000, "customers": 10_000, "routed": 2_000},
}
STEP_TIMEOUT_SECONDS = 3600


@dataclass(frozen=True)
class Step:
    name: str
    script: str
    size_flag: str
    size: str  # its key in SCALES
    rows: Callable[[dict, str], list[dict]]
    database: str
    database_flag: bool = False  # the script takes --database, else DATABASE_URL
    extra: tuple[str, ...] = ()

    def database_at(self, size: int) -> str:
        """Data built at another size lives in another database, so that runs at each size
        reuse their own."""
        default = SCALES["default"][self.size]
        return self.database if size == default else f"{self.database}_{size}"


def _at_most(value: str, limit: float) -> bool:
    return float(value) <= limit


def _inbox_breakdown(log: str) -> str:
    """The filtered inbox's p90, its CPU time in the process and its SQL time, as printed."""
    page = re.search(
        r"inbox /\?\S+: median .*?\(p90 ([\d.]+) ms, CPU in this process ([\d.]+) ms", log
    )
    database = re.search(r"database execution time of its SELECTs: ([\d.]+) ms", log)
    if not (page and database):
        return ""
    return f" (p90 {page[1]} ms; CPU {page[2]} ms in Django, {database[1]} ms in PostgreSQL)"


def inbox_rows(result: dict, log: str) -> list[dict]:
    tickets = int(result["tickets"])
    return [
        report.row(
            "Inbox page, median server time (filtered, 50 rows)",
            "≤ 30 ms at 1,000,000 tickets",
            f"{result['inbox_ms']} ms{_inbox_breakdown(log)}",
            _at_most(result["inbox_ms"], 30) if tickets >= 1_000_000 else None,
        ),
        report.row(
            "Inbox page, SQL queries",
            "constant (asserted by the query-count tests)",
            result["inbox_queries"],
            None,
        ),
        report.row("Ticket page, median server time", "n/a", f"{result['ticket_ms']} ms", None),
    ]


def imports_rows(result: dict, log: str) -> list[dict]:
    rows = int(result["rows"])
    return [
        report.row(
            f"Purchases CSV import, {rows:,} rows",
            "< 120 s for 1,000,000 rows",
            f"{result['seconds']} s ({int(result['rows_per_s']):,} rows/s)",
            float(result["seconds"]) < 120 if rows >= 1_000_000 else None,
        )
    ]


def segmentation_rows(result: dict, log: str) -> list[dict]:
    at_scale = int(result["customers"]) >= 1_000_000
    return [
        report.row(
            "Segmentation `behaviour` end to end, seconds S",
            "≤ 60 s at 1,000,000 customers",
            f"{result['seconds']} s",
            _at_most(result["seconds"], 60) if at_scale else None,
        ),
        report.row(
            "Segmentation, peak memory of the run's process",
            "≤ 2048 MiB at 1,000,000 customers",
            f"{result['peak_mib']} MiB",
            _at_most(result["peak_mib"], 2048) if at_scale else None,
        ),
        report.row(
            "Segmentation, ratio to the bare pandas + MiniBatchKMeans baseline",
            "≤ 3 at 1,000,000 customers",
            f"{result['ratio']} (baseline {result['baseline_seconds']} s)",
            _at_most(result["ratio"], 3) if at_scale else None,
        ),
    ]


def routing_rows(result: dict, log: str) -> list[dict]:
    evaluation = dict(re.findall(r"rules=(\d+): .*the evaluation alone: (\d+) queries", log))
    constant = len(set(evaluation.values())) == 1 if len(evaluation) > 1 else None
    by_rules = ", ".join(f"{rules} rules: {queries}" for rules, queries in evaluation.items())
    return [
        report.row(
            f"Routing, median ms per ticket ({result['rules']} rules, {result['tickets']} tickets)",
            "≤ 1 ms",
            f"{result['median_ms_per_ticket']} ms",
            _at_most(result["median_ms_per_ticket"], 1),
        ),
        report.row(
            "Routing, queries to evaluate a batch of tickets",
            "constant in the number of rules",
            f"{by_rules or 'not printed'}; {result['queries_per_ticket']} per ticket with writes",
            constant,
        ),
    ]


STEPS = (
    Step("inbox", "inbox.py", "--tickets", "tickets", inbox_rows, "hd_bench_inbox"),
    Step("imports", "imports.py", "--rows", "rows", imports_rows, "hd_bench_imports", True),
    Step(
        "segmentation",
        "segmentation.py",
        "--customers",
        "customers",
        segmentation_rows,
        "hd_bench_segments",
        True,
        ("--reuse",),
    ),
    Step("routing", "routing.py", "--tickets", "routed", routing_rows, "hd_bench_routing"),
)


def parse_result(log: str) -> dict | None:
    lines = [line for line in log.splitlines() if line.startswith("RESULT ")]
    return dict(pair.split("=", 1) for pair in lines[-1].split()[1:]) if lines else None


def run_step(step: Step, scale: dict, machine: str, scale_name: str) -> list[dict]:
    script = report.ROOT / "bench" / step.script
    context = {"scale": scale_name, "machine": machine, "date": report.now()}
    if not script.exists():
        return [report.row(step.name, "n/a", f"not run: bench/{step.script} does not exist", False,
                           load_average="n/a", **context)]  # fmt: skip
    log_path = report.RESULTS / f"{step.name}.log"
    database = step.database_at(scale[step.size])
    environment = {
        **os.environ,
        "DATABASE_URL": f"{report.SERVER}/{database}",
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/14"),
    }
    environment.pop("DJANGO_SETTINGS_MODULE", None)
    command = [sys.executable, str(script), step.size_flag, str(scale[step.size]), *step.extra]
    if step.database_flag:
        command += ["--database", database]
    print(f"== {step.name}: {' '.join(command[1:])} (log: {log_path})", flush=True)
    started = time.perf_counter()
    with open(log_path, "w") as log_file:
        try:
            process = subprocess.run(
                command,
                cwd=report.ROOT,
                env=environment,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                timeout=STEP_TIMEOUT_SECONDS,
            )
            failure = f"exit status {process.returncode}" if process.returncode else ""
        except subprocess.TimeoutExpired:
            failure = f"timed out after {STEP_TIMEOUT_SECONDS} s"
    context["load_average"] = report.load_average()
    log = log_path.read_text()
    result = parse_result(log)
    print(f"   {time.perf_counter() - started:.0f} s, load average {context['load_average']}")
    if failure or result is None:
        last = log.strip().splitlines()[-1][:160] if log.strip() else "no output"
        reason = failure or "no RESULT line"
        return [report.row(step.name, "n/a", f"failed ({reason}): `{last}`", False, **context)]
    print(f"   RESULT {' '.join(f'{k}={v}' for k, v in result.items())}", flush=True)
    return [{**row, **context} for row in step.rows(result, log)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="default")
    parser.add_argument("--only", default="", help="comma-separated step names")
    args = parser.parse_args()
    chosen = {name for name in args.only.split(",") if name}
    unknown = chosen - {step.name for step in STEPS}
    if unknown:
        parser.error(f"unknown steps: {', '.join(sorted(unknown))}")
    report.RESULTS.mkdir(parents=True, exist_ok=True)
    machine = report.machine()
    print(f"machine: {machine}; load average {report.load_average()}", flush=True)
    all_met = True
    if args.scale == "smoke":
        report.write_to_scratch()
    scale = SCALES[args.scale]
    for step in STEPS:
        if not chosen or step.name in chosen:
            rows = run_step(step, scale, machine, args.scale)
            at_default = scale[step.size] == SCALES["default"][step.size]
            report.save(step.name if at_default else f"{step.name} ({args.scale})", rows)
            all_met &= all(row["met"] is not False for row in rows)
    print(report.TABLE.read_text())
    sys.exit(0 if all_met else 1)


if __name__ == "__main__":
    main()
