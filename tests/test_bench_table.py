"""The README's performance table is made from the committed bench/results.json by
``make bench-table``, never by hand; and what falls short of a target can be read
from the results by a script. No database: these read files only."""

from __future__ import annotations

import json
from typing import Any

from bench import table
from bench.harness import Figure, Report, Target, Value


def test_the_readmes_table_is_what_bench_table_makes_of_the_committed_results() -> None:
    results = json.loads(table.RESULTS.read_text())
    in_readme = table.current(table.README.read_text())
    assert in_readme == table.render(results), (
        "README.md's performance table differs from bench/results.json: run `make bench-table`"
    )


def test_every_figure_with_a_target_in_the_committed_results_says_whether_it_is_met() -> None:
    results = json.loads(table.RESULTS.read_text())
    judged = [entry for _, _, entry in table.figures(results) if "target" in entry]
    assert judged, "the committed results carry no targets"
    for entry in judged:
        assert isinstance(entry["met"], bool)
        assert entry["target"]["op"] in (">=", "<=")


def test_a_dba_reads_which_figures_fall_short_and_an_rss_is_judged_on_its_worst_run() -> None:
    report = Report()
    report.open(9, "applier memory", baseline_only=False)
    rss = Target("<=", 150.0, "≤ 150 MB in every run", judged_on="worst")
    report.add(9, "backlog: peak RSS", Figure("MB", (60.0, 70.0, 151.0)), rss)
    report.add(9, "one transaction: peak RSS", Figure("MB", (60.0, 70.0, 80.0)), rss)
    report.open(7, "bulk load", baseline_only=False)
    report.add(7, "ratio", Value("×", 0.61), Target(">=", 0.6, "≥ 0.6× without capture"))
    results: dict[str, Any] = {"sections": report.as_json()}

    assert table.shortfalls(results) == [
        "9. backlog: peak RSS: 70.0 MB (60.0–151), target ≤ 150 MB in every run"
    ]
