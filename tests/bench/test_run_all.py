"""bench/run_all.py and bench/report.py: RESULT lines become honest rows of one table."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import report
import run_all

CONTEXT = {"scale": "default", "date": "2025-01-01 00:00 UTC", "load_average": "1.0 / 1.0 / 1.0",
           "machine": "2 CPU"}  # fmt: skip


@pytest.fixture
def outputs(tmp_path, monkeypatch):
    readme = tmp_path / "README.md"
    readme.write_text(f"# Title\n\n{report.README_START}\nold\n{report.README_END}\n\n## Next\n")
    monkeypatch.setattr(report, "FIGURES", tmp_path / "benchmarks.json")
    monkeypatch.setattr(report, "TABLE", tmp_path / "benchmarks.md")
    monkeypatch.setattr(report, "README", readme)
    return tmp_path


def test_the_last_result_line_is_parsed_into_its_pairs():
    log = "RESULT rows=1 seconds=9\nnoise\nRESULT rows=1000000 seconds=61.5 rows_per_s=16260\n"

    assert run_all.parse_result(log) == {
        "rows": "1000000",
        "seconds": "61.5",
        "rows_per_s": "16260",
    }
    assert run_all.parse_result("Traceback ...\nValueError: boom\n") is None


def test_targets_are_judged_only_at_the_scale_they_are_stated_for():
    at_scale = run_all.segmentation_rows(
        {"customers": "1000000", "seconds": "75", "peak_mib": "1900", "ratio": "2.5",
         "baseline_seconds": "30"}, "")  # fmt: skip
    smaller = run_all.segmentation_rows(
        {"customers": "100000", "seconds": "75", "peak_mib": "1900", "ratio": "2.5",
         "baseline_seconds": "30"}, "")  # fmt: skip

    assert [row["met"] for row in at_scale] == [False, True, True]
    assert [row["met"] for row in smaller] == [None, None, None]


def test_routing_queries_are_constant_only_when_every_rule_count_needs_the_same():
    result = {"rules": "200", "tickets": "10000", "median_ms_per_ticket": "0.8",
              "queries_per_ticket": "1.2"}  # fmt: skip
    same = "rules=20: 90 queries (1 firings; the evaluation alone: 8 queries)\n" + (
        "rules=200: 99 queries (5 firings; the evaluation alone: 8 queries)"
    )
    growing = same.replace("alone: 8 queries)\nrules=200", "alone: 7 queries)\nrules=200")

    assert [row["met"] for row in run_all.routing_rows(result, same)] == [True, True]
    assert run_all.routing_rows(result, growing)[1]["met"] is False


def test_a_failing_script_gets_a_row_that_says_so(tmp_path, monkeypatch):
    script = tmp_path / "broken.py"
    script.write_text("raise SystemExit('no database')\n")
    monkeypatch.setattr(report, "RESULTS", tmp_path)
    step = run_all.Step("broken", str(script), "--tickets", "tickets", run_all.inbox_rows, "x")

    [row] = run_all.run_step(step, run_all.SCALES["smoke"], "2 CPU", "smoke")

    assert row["met"] is False
    assert "failed (exit status 1)" in row["measured"] and "no database" in row["measured"]


def test_saving_one_step_keeps_the_others_and_rewrites_only_the_readme_section(outputs):
    report.save("routing", [report.row("Routing", "≤ 1 ms", "0.8 ms", True, **CONTEXT)])
    report.save("inbox", [report.row("Inbox", "≤ 30 ms", "41 ms", False, **CONTEXT)])
    report.save("routing", [report.row("Routing", "≤ 1 ms", "0.7 ms", True, **CONTEXT)])

    table = (outputs / "benchmarks.md").read_text()
    readme = (outputs / "README.md").read_text()
    assert table.index("| Inbox |") < table.index("| Routing |")
    assert "0.8 ms" not in table and "| 0.7 ms | yes |" in table and "| 41 ms | **no** |" in table
    assert readme.startswith("# Title\n\n") and readme.endswith("\n\n## Next\n")
    assert "old" not in readme and "| Inbox | ≤ 30 ms | 41 ms | **no** |" in readme


def test_the_inbox_row_shows_cpu_and_database_time_beside_the_median():
    log = (
        "[ 24.0s] inbox /?status=open&sort=updated: median 79.8 ms (p90 140.0 ms, CPU in this "
        "process 34.5 ms), 11 queries\n"
        "[ 24.0s]   database execution time of its SELECTs: 5.60 ms; slowest 5.17 ms:\n"
    )
    result = {"tickets": "1000000", "inbox_ms": "79.8", "ticket_ms": "52.4", "inbox_queries": "11"}

    [inbox, *_] = run_all.inbox_rows(result, log)

    assert (
        inbox["measured"] == "79.8 ms (p90 140.0 ms; CPU 34.5 ms in Django, 5.60 ms in PostgreSQL)"
    )
    assert inbox["met"] is False
