"""``replicator verify [MAP...]``: what the verifier (``verify``) found, per
difference and per map, as text or JSON; exit 0 if both sides agree, 2 if not."""

from __future__ import annotations

import json
from typing import Any, TextIO

from replicator.core.exitcodes import ExitCode
from replicator.core.output import counted
from replicator.maps.model import Config
from replicator.operations.checked import check
from replicator.operations.verify import CHUNK, Difference, Verified, opened, selected_maps


def describe(config: Config, difference: Difference) -> str:
    """One difference for people: map, key, and which side has what."""
    left, right = config.left.name, config.right.name
    what = {
        "missing_left": f"missing left (only {right} has it)",
        "missing_right": f"missing right (only {left} has it)",
        "differs": f"differs in {', '.join(difference.fields) or 'its fields'}"
        f" ({left} and {right} hold different values)",
    }[difference.kind]
    return f"{difference.map}: {difference.label}: {what}"


def summary(config: Config, verified: Verified) -> str:
    rows = (
        f"{counted(verified.rows['left'], 'row')} in {config.left.name},"
        f" {verified.rows['right']} in {config.right.name}"
    )
    if not verified.differences:
        return f"{verified.map}: equal ({rows}, {verified.seconds:.1f} s)"
    return (
        f"{verified.map}: {counted(verified.differences, 'difference')}:"
        f" {verified.missing_left} missing left, {verified.missing_right} missing right,"
        f" {verified.differs} {'differs' if verified.differs == 1 else 'differ'}"
        f" ({rows}, {verified.seconds:.1f} s)"
    )


def cmd_verify(
    config: Config,
    out: TextIO,
    err: TextIO,
    names: list[str],
    chunk: int = CHUNK,
    as_json: bool = False,
    quiet: bool = False,
) -> ExitCode:
    """replicator verify [MAP...]: exit 0 if both sides agree under the maps, 2 if not."""
    checked = check(config)
    maps, catalogs = checked.maps, checked.catalogs
    chosen = selected_maps(maps, names)
    progress = err if err.isatty() and not quiet else None
    found: list[dict[str, Any]] = []
    with opened(config, maps, catalogs, progress, chunk) as verifier:
        for table_map in chosen:
            for difference in verifier.differences(table_map):
                if as_json:
                    found.append(difference.as_json())
                else:
                    out.write(describe(config, difference) + "\n")
            if not as_json:
                out.write(summary(config, verifier.found[-1]) + "\n")
    results = verifier.found
    if as_json:
        document = {
            "equal": not any(v.differences for v in results),
            "maps": [
                {
                    "map": v.map,
                    "rows": v.rows,
                    "missing_left": v.missing_left,
                    "missing_right": v.missing_right,
                    "differs": v.differs,
                    "seconds": round(v.seconds, 3),
                }
                for v in results
            ],
            "differences": found,
        }
        out.write(json.dumps(document, indent=2) + "\n")
    total = sum(v.differences for v in results)
    if not as_json:
        out.write(
            f"{counted(total, 'difference')} in {sum(1 for v in results if v.differences)}"
            f" of {counted(len(results), 'map')}\n"
            if total
            else (f"all {len(results)} maps equal\n" if len(results) != 1 else "the map is equal\n")
        )
    return ExitCode.PENDING if total else ExitCode.OK
