"""Measuring: repetitions summarised as median, min and max; derived values (ratios);
series sampled over time; targets and whether a figure meets its own; the report."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal


def number(value: float, unit: str = "") -> str:
    """``value`` as the tables print it: thousands separated when large, two decimals
    when small (three for a ratio, which is judged against thresholds like 0.97);
    ``unit`` after it ("×" without a space)."""
    if unit == "×" and abs(value) < 10:
        return f"{value:.3f}×"
    if abs(value) >= 100:
        text = f"{value:,.0f}"
    elif abs(value) >= 10:
        text = f"{value:,.1f}"
    else:
        text = f"{value:,.2f}"
    if not unit:
        return text
    return f"{text}{unit}" if unit == "×" else f"{text} {unit}"


@dataclass(frozen=True)
class Figure:
    """One measured quantity over its repetitions; its value is the median."""

    unit: str
    values: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    @property
    def value(self) -> float:
        return self.median

    def worst(self, higher_is_better: bool) -> float:
        return min(self.values) if higher_is_better else max(self.values)

    def as_json(self) -> dict[str, object]:
        return {
            "unit": self.unit,
            "value": round(self.median, 4),
            "min": round(min(self.values), 4),
            "max": round(max(self.values), 4),
            "runs": len(self.values),
        }


@dataclass(frozen=True)
class Value:
    """One derived number (a ratio of two medians, a percentile, a count), with what it
    was computed from when that helps a reader (``basis``)."""

    unit: str
    value: float
    basis: str | None = None

    def worst(self, higher_is_better: bool) -> float:
        return self.value

    def as_json(self) -> dict[str, object]:
        entry: dict[str, object] = {"unit": self.unit, "value": round(self.value, 4)}
        if self.basis is not None:
            entry["basis"] = self.basis
        return entry


@dataclass(frozen=True)
class Series:
    """A quantity sampled over time: (seconds since the start, value) pairs; its value
    is the peak."""

    unit: str
    samples: tuple[tuple[float, float], ...]
    note: str | None = None

    @property
    def value(self) -> float:
        return max((v for _, v in self.samples), default=0.0)

    def worst(self, higher_is_better: bool) -> float:
        return min(v for _, v in self.samples) if higher_is_better else self.value

    def as_json(self) -> dict[str, object]:
        peak_at = next((t for t, v in self.samples if v == self.value), 0.0)
        entry: dict[str, object] = {
            "unit": self.unit,
            "value": round(self.value, 4),
            "peak_at_s": round(peak_at, 1),
            "samples": [[round(t, 2), round(v, 4)] for t, v in self.samples],
        }
        if self.note is not None:
            entry["note"] = self.note
        return entry


Measure = Figure | Value | Series


@dataclass(frozen=True)
class Target:
    """What a figure must reach, as the issue states it (``text``); ``threshold`` is the
    number it is compared with. ``judged_on="worst"`` compares the worst run (a peak
    RSS must stay under its limit in every run), otherwise the figure's value."""

    op: Literal[">=", "<="]
    threshold: float
    text: str
    judged_on: Literal["value", "worst"] = "value"

    def met(self, measure: Measure) -> bool:
        higher_is_better = self.op == ">="
        judged = measure.worst(higher_is_better) if self.judged_on == "worst" else measure.value
        return judged >= self.threshold if higher_is_better else judged <= self.threshold

    def as_json(self) -> dict[str, object]:
        return {
            "op": self.op,
            "value": self.threshold,
            "text": self.text,
            "judged_on": self.judged_on,
        }


def ratio(numerator: Figure | Value, denominator: Figure | Value) -> Value:
    """numerator / denominator (their values), saying what it was computed from."""
    top, bottom = numerator.value, denominator.value
    if numerator.unit == denominator.unit:
        basis = f"{number(top)} / {number(bottom, denominator.unit)}"
    else:
        basis = f"{number(top, numerator.unit)} / {number(bottom, denominator.unit)}"
    return Value("×", top / bottom, basis)


def repeat(times: int, unit: str, measure: Callable[[], float]) -> Figure:
    return Figure(unit, tuple(measure() for _ in range(times)))


def rate(rows: int, work: Callable[[], object]) -> float:
    """Rows per second of ``work``."""
    started = time.perf_counter()
    work()
    return rows / (time.perf_counter() - started)


def wait_until(
    condition: Callable[[], bool], timeout: float, what: str, interval: float = 0.005
) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


@dataclass
class Section:
    """One section's title and its named entries: a measure's JSON, plus its target and
    whether it is met when it has one. ``baseline_only``: it ran because a requested
    section needs its figures, not because it was asked for."""

    title: str
    baseline_only: bool
    figures: dict[str, dict[str, object]] = field(default_factory=dict)

    def as_json(self) -> dict[str, object]:
        return {"title": self.title, "baseline_only": self.baseline_only, "figures": self.figures}


@dataclass
class Report:
    """Sections by number, in the order they ran."""

    sections: dict[int, Section] = field(default_factory=dict)

    def open(self, number: int, title: str, baseline_only: bool) -> None:
        self.sections[number] = Section(title, baseline_only)

    def add(self, number: int, name: str, measure: Measure, target: Target | None = None) -> None:
        entry = measure.as_json()
        if target is not None:
            entry["target"] = target.as_json()
            entry["met"] = target.met(measure)
        self.sections[number].figures[name] = entry

    def as_json(self) -> dict[str, object]:
        return {str(number): section.as_json() for number, section in self.sections.items()}
