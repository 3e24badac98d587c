"""Scenarios, how each is repeated and timed, and the table the results are printed in."""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


class Skip(Exception):
    """Raised by a `prepare` that cannot run here; the message says why."""


Measure = Callable[[], float]  # does the thing once; returns the seconds that count


@dataclass
class Scenario:
    """One thing to time. `prepare(ctx)` sets it up (or raises Skip) and returns its Measure."""

    name: str
    prepare: Callable[[Any], Measure]
    runs: int
    warmups: int


@dataclass
class Result:
    """What one scenario gave: timings in milliseconds, or why there are none."""

    name: str
    runs: int = 0
    median_ms: float = 0.0
    p95_ms: float = 0.0
    note: str = ""  # "skipped: ..." or "FAILED: ..."

    @property
    def failed(self) -> bool:
        """True when the scenario raised instead of finishing its runs."""
        return self.note.startswith("FAILED")


def timed(action: Callable[[], object]) -> Measure:
    """A `measure` that times all of `action`."""

    def measure() -> float:
        started = time.perf_counter()
        action()
        return time.perf_counter() - started

    return measure


def percentile(samples: list[float], fraction: float) -> float:
    """The nearest-rank percentile (0.95 -> p95) of `samples`."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def run_scenario(scenario: Scenario, ctx: Any) -> Result:
    """Prepare, warm up, then time `runs` runs; a failure becomes a FAILED result, not a crash."""
    try:
        measure = scenario.prepare(ctx)
        for _ in range(scenario.warmups):
            measure()
        samples = [measure() for _ in range(scenario.runs)]
    except Skip as reason:
        return Result(scenario.name, note=f"skipped: {reason}")
    except Exception as error:  # reported in the table, and the other scenarios go on
        return Result(scenario.name, note=f"FAILED: {type(error).__name__}: {error}"[:300])
    return Result(scenario.name, scenario.runs, statistics.median(samples) * 1000,
                  percentile(samples, 0.95) * 1000)  # fmt: skip


def format_table(results: list[Result]) -> str:
    """Name, runs, median and p95 in aligned columns; skipped or failed ones say why."""
    width = max([len("scenario"), *(len(r.name) for r in results)])
    lines = [f"{'scenario':<{width}}  {'runs':>5}  {'median ms':>10}  {'p95 ms':>10}"]
    for r in results:
        if r.note:
            lines.append(f"{r.name:<{width}}  {r.note}")
        else:
            lines.append(f"{r.name:<{width}}  {r.runs:>5}  {r.median_ms:>10.1f}  {r.p95_ms:>10.1f}")
    return "\n".join(lines)
