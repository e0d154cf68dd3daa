"""Prerequisite order: each map after the maps it requires or looks up, keeping
file order otherwise; a cycle is refused, spelled out."""

from __future__ import annotations

import difflib
from collections.abc import Collection

from replicator.core.errors import MapError, Problem, Where
from replicator.maps.model import TableMap


def prerequisites_first(maps: list[TableMap]) -> tuple[tuple[TableMap, ...], tuple[Problem, ...]]:
    """Order maps so each comes after the maps it requires, keeping file order
    otherwise; refuse cycles, spelling the cycle out. Prerequisites that name no map
    are returned as problems for validate to report with the rest."""
    by_name = {m.name: m for m in maps}
    problems = [
        Problem(Where(file=m.file, map=m.name), f"requires unknown map {_unknown(name, by_name)}")
        for m in maps
        for name in m.requires
        if name not in by_name
    ]
    problems += [
        Problem(
            Where(file=m.file, map=m.name, field=f.label),
            f"lookup to unknown map {_unknown(f.lookup.map, by_name)}",
        )
        for m in maps
        for f in m.fields
        if f.lookup is not None and f.lookup.map not in by_name
    ]
    ordered: list[TableMap] = []
    placed: set[str] = set()
    while len(ordered) < len(maps):
        ready = next(
            (
                m
                for m in maps
                if m.name not in placed and placed.issuperset(set(m.prerequisites) & set(by_name))
            ),
            None,
        )
        if ready is None:
            cycle = _cycle([m for m in maps if m.name not in placed], by_name)
            first = by_name[cycle[0]]
            raise MapError(
                [
                    Problem(
                        Where(file=first.file, map=first.name),
                        f"prerequisites form a cycle: {' → '.join(cycle)}; remove one of these requires or lookups",
                    )
                ]
            )
        ordered.append(ready)
        placed.add(ready.name)
    return tuple(ordered), tuple(problems)


def _unknown(name: str, known: Collection[str]) -> str:
    """An unknown map name, with the map a DBA probably meant (map names, not tables)."""
    close = difflib.get_close_matches(name, list(known), n=1)
    return f"{name!r}" + (f" (did you mean {close[0]!r}? these are map names)" if close else "")


def _cycle(unplaced: list[TableMap], by_name: dict[str, TableMap]) -> list[str]:
    """A cycle among maps none of which could be placed: follow unplaced prerequisites
    until a map repeats."""
    waiting = {m.name for m in unplaced}
    path = [unplaced[0].name]
    while True:
        step = next(name for name in by_name[path[-1]].prerequisites if name in waiting)
        if step in path:
            return [*path[path.index(step) :], step]
        path.append(step)
