"""Benchmark: import N purchase rows (and the customers they reference) into PostgreSQL.

    .venv/bin/python bench/imports.py [--rows 1000000] [--database hd_bench_imports]

Creates and migrates its own database, writes the CSV files to a temporary folder, imports
the customers, then times the purchases import through the real service (both passes:
validation and writing). The last line is ``RESULT rows=N seconds=S rows_per_s=R``.
"""

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from common import create_database_if_missing, setup_django

SERVER = "postgres://postgres@127.0.0.1:5432"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, help="default: one per ten purchases")
    parser.add_argument("--database", default="hd_bench_imports")
    args = parser.parse_args()
    customers = args.customers or max(1, args.rows // 10)

    url = f"{SERVER}/{args.database}"
    create_database_if_missing(url)
    setup_django(url)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    empty_tables()

    with tempfile.TemporaryDirectory() as folder:
        customers_csv = Path(folder) / "customers.csv"
        purchases_csv = Path(folder) / "purchases.csv"
        started = time.perf_counter()
        customer_frame(customers).to_csv(customers_csv, index=False)
        purchase_frame(args.rows, customers).to_csv(purchases_csv, index=False)
        print(f"generated CSV files in {time.perf_counter() - started:.1f} s", flush=True)

        run_import("customers", customers_csv)
        seconds = run_import("purchases", purchases_csv)
    print(f"RESULT rows={args.rows} seconds={seconds:.1f} rows_per_s={args.rows / seconds:.0f}")


def empty_tables() -> None:
    """The bench database is this script's own: start every run from empty tables."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE tickets_purchase, tickets_customer RESTART IDENTITY CASCADE")


def customer_frame(count: int) -> pd.DataFrame:
    numbers = pd.Series(np.arange(count)).astype(str).str.zfill(7)
    rng = np.random.default_rng(1)
    return pd.DataFrame(
        {
            "external_id": "BENCH-" + numbers,
            "email": "bench-" + numbers + "@example.com",
            "name": "Customer " + numbers,
            "country": rng.choice(["DE", "FR", "GB", "US", "NL"], count),
            "plan": rng.choice(["basic", "pro", "enterprise"], count),
        }
    )


def purchase_frame(rows: int, customers: int) -> pd.DataFrame:
    rng = np.random.default_rng(2)
    customer_numbers = pd.Series(rng.integers(0, customers, rows)).astype(str).str.zfill(7)
    seconds = rng.integers(0, 3 * 365 * 24 * 3600, rows)
    ordered_at = pd.Timestamp("2022-01-01T00:00:00Z") + pd.to_timedelta(seconds, unit="s")
    return pd.DataFrame(
        {
            "order_id": "ORD-" + pd.Series(np.arange(rows)).astype(str).str.zfill(8),
            "customer_external_id": "BENCH-" + customer_numbers,
            "ordered_at": ordered_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "amount": np.round(rng.gamma(2.0, 30.0, rows), 2),
            "currency": "EUR",
            "product": rng.choice(["Widget", "Gadget", "Gizmo", "Doohickey"], rows),
            "category": rng.choice(["widgets", "gadgets", "tools"], rows),
            "quantity": rng.integers(1, 5, rows),
        }
    )


def run_import(kind: str, path: Path) -> float:
    from tickets.services import import_csv

    def progress(phase: str, done: int, total: int) -> None:
        if done % 200_000 == 0 or done == total:
            print(f"  {kind} {phase}: {done} rows", flush=True)

    started = time.perf_counter()
    with open(path, "rb") as source:
        result = import_csv(kind=kind, source=source, progress=progress)
    seconds = time.perf_counter() - started
    if not result.written:
        raise SystemExit(f"{kind} import failed: {result.error_lines()[:5]}")
    print(
        f"{kind}: {result.total_rows} rows in {seconds:.1f} s "
        f"(created={result.created} updated={result.updated})",
        flush=True,
    )
    return seconds


if __name__ == "__main__":
    main()
