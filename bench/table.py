"""The README's performance table, made from bench/results.json; never edited by hand.

    .venv/bin/python -m bench.table           # rewrite README.md between the markers
    .venv/bin/python -m bench.table --print   # print the table
    .venv/bin/python -m bench.table --check   # the figures short of their targets

``--check`` exits 0 when every figure with a target meets it, 2 when some fall short
(each listed), 1 when the results cannot be read. ``--results`` and ``--readme`` name
other files.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from bench.harness import number

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results.json"
README = HERE.parent / "README.md"
START = "<!-- bench-table: made by `make bench-table` from bench/results.json; do not edit -->"
END = "<!-- /bench-table -->"

Results = Mapping[str, Any]
Entry = Mapping[str, Any]


def figures(results: Results) -> Iterator[tuple[str, str, Entry]]:
    """(section number, figure name, entry) for every figure, in the order measured."""
    for section_number, section in results["sections"].items():
        for name, entry in section["figures"].items():
            yield section_number, name, entry


def shortfalls(results: Results) -> list[str]:
    """One line per figure that has a target and does not meet it."""
    return [
        f"{section}. {name}: {measured(entry)}, target {entry['target']['text']}"
        for section, name, entry in figures(results)
        if "target" in entry and not entry["met"]
    ]


def measured(entry: Entry) -> str:
    """A figure's value with its unit, then its spread over runs, what a ratio was
    computed from, or where a series peaked."""
    text = number(entry["value"], entry["unit"])
    if "samples" in entry:
        return f"peak {text} at {entry['peak_at_s']:g} s ({len(entry['samples'])} samples)"
    if entry.get("runs", 1) > 1:
        return f"{text} ({number(entry['min'])}–{number(entry['max'])})"
    if "basis" in entry:
        return f"{text} ({entry['basis']})"
    return text


def render(results: Results) -> str:
    """The block between the README's markers: where and how it was measured, the
    sections, every figure with a target (met or not), then the other figures."""
    lines = [*_provenance(results), "", *_legend(results), ""]
    lines += ["| figure | measured | target | met |", "| --- | --- | --- | --- |"]
    for section, name, entry in figures(results):
        if "target" in entry:
            met = "met" if entry["met"] else "**not met**"
            lines.append(
                f"| {section}. {name} | {measured(entry)} | {entry['target']['text']} | {met} |"
            )
    lines += ["", "Baselines and the figures without a target:", ""]
    lines += ["| figure | measured |", "| --- | --- |"]
    for section, name, entry in figures(results):
        if "target" not in entry:
            lines.append(f"| {section}. {name} | {measured(entry)} |")
    return "\n".join(lines)


def _provenance(results: Results) -> list[str]:
    machine = results["machine"]
    with_target = [entry for _, _, entry in figures(results) if "target" in entry]
    met = sum(1 for entry in with_target if entry["met"])
    lines = [
        f"Measured on {machine['cpus']} × {machine['cpu']}, {machine['memory_gb']:g} GB RAM,"
        f" {machine['os']}, PostgreSQL {machine['postgresql']} on {machine['servers']};"
        f" Python {machine['python']}. Finished {results['finished_at']} after"
        f" {number(results['seconds'])} s, by:",
        "",
        f"    {results['command']}",
        "",
        f"**{met} of {len(with_target)} targets met.** Each figure with min–max is the"
        " median of its runs; a ratio divides medians of the same run.",
    ]
    if "failed" in results:
        lines += ["", f"**The run failed** in {results['failed']}; later sections are missing."]
    return lines


def _legend(results: Results) -> list[str]:
    lines = []
    for section_number, section in results["sections"].items():
        why = " (run as a baseline for another section)" if section["baseline_only"] else ""
        lines.append(f"- **{section_number}.** {section['title']}{why}")
    return lines


def current(readme: str) -> str:
    """The block between the README's markers as it stands."""
    start, end = _bounds(readme)
    return readme[start:end].strip("\n")


def rewrite(readme: str, block: str) -> str:
    """``readme`` with ``block`` between its markers."""
    start, end = _bounds(readme)
    return f"{readme[:start]}\n{block}\n{readme[end:]}"


def _bounds(readme: str) -> tuple[int, int]:
    start, end = readme.find(START), readme.find(END)
    if start < 0 or end < start:
        raise ValueError(f"README has no {START} ... {END} block")
    return start + len(START), end


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--readme", type=Path, default=README)
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--print", action="store_true", help="print the table")
    action.add_argument("--check", action="store_true", help="list the figures short of target")
    args = parser.parse_args(argv)
    try:
        results = json.loads(args.results.read_text())
    except (OSError, ValueError) as error:
        print(f"cannot read {args.results}: {error}", file=sys.stderr)
        return 1
    if args.check:
        short = shortfalls(results)
        print("\n".join(short) if short else "every figure with a target meets it")
        return 2 if short else 0
    if args.print:
        print(render(results))
        return 0
    args.readme.write_text(rewrite(args.readme.read_text(), render(results)))
    print(f"{args.readme}: table rewritten from {args.results}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
