"""Progress lines for logs: a long stage says every ``interval`` seconds and at the end how far it is.

Rules send a job's output to its ``{log}`` file, where tqdm (off when stderr is not a terminal) shows
nothing. :class:`Progress` writes ordinary log lines instead, readable with ``tail -f``::

    fbank shard-003.npy: 1200/5000 clips (24 %), 41.2 clips/s, elapsed 0:00:29, ETA 0:01:32
    train: 300/1500 steps (20 %), 2.1 steps/s, elapsed 0:02:23, ETA 0:09:31, loss=3.42, lr=5e-05

The interval is 30 s (``VIPANT_PROGRESS_INTERVAL`` overrides it, e.g. 5 for a demo); the last line is
written when the stage ends, whatever the interval.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any, Callable, Iterable, Iterator, TypeVar

ENV_INTERVAL = "VIPANT_PROGRESS_INTERVAL"
INTERVAL_S = 30.0

_T = TypeVar("_T")
_log = logging.getLogger(__name__)


def default_interval() -> float:
    """Seconds between lines: ``$VIPANT_PROGRESS_INTERVAL`` if it is a positive number, else 30."""
    try:
        value = float(os.environ.get(ENV_INTERVAL, ""))
    except ValueError:
        return INTERVAL_S
    return value if value > 0 else INTERVAL_S


def clock_time(seconds: float) -> str:
    """``h:mm:ss`` of a duration (rounded to whole seconds)."""
    s = int(round(seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


def _field(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


class Progress:
    """Counts done items of ``total`` and logs a line (done/total, rate, elapsed, ETA and any extra fields
    given to :meth:`update`) at most every ``interval`` seconds, and one at :meth:`close`."""

    def __init__(
        self,
        desc: str,
        total: int | None,
        *,
        unit: str = "items",
        interval: float | None = None,
        logger: logging.Logger | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.desc = desc
        self.total = total
        self.unit = unit
        self.interval = default_interval() if interval is None else interval
        self.done = 0
        self._log = logger or _log
        self._clock = clock
        self._start = self._last = clock()
        self._fields: dict[str, Any] = {}
        self._logged_at: int | None = None  # items done at the last line (close does not repeat it)
        self._closed = False

    def line(self, now: float | None = None) -> str:
        """The progress line as of ``now`` (the clock's time by default)."""
        elapsed = (self._clock() if now is None else now) - self._start
        rate = self.done / elapsed if elapsed > 0 else 0.0
        if self.total:
            parts = [f"{self.done}/{self.total} {self.unit} ({100 * self.done / self.total:.0f} %)"]
        else:
            parts = [f"{self.done} {self.unit}"]
        parts += [f"{rate:.3g} {self.unit}/s", f"elapsed {clock_time(elapsed)}"]
        if self.total and rate > 0 and self.done < self.total:
            parts.append(f"ETA {clock_time((self.total - self.done) / rate)}")
        parts += [f"{k}={_field(v)}" for k, v in self._fields.items()]
        return f"{self.desc}: " + ", ".join(parts)

    def update(self, n: int = 1, **fields: Any) -> None:
        """``n`` more items done; ``fields`` (e.g. ``loss=3.4, lr=5e-5``) are shown from now on."""
        self.done += n
        self._fields.update(fields)
        now = self._clock()
        if now - self._last >= self.interval:
            self._last, self._logged_at = now, self.done
            self._log.info("%s", self.line(now))

    def close(self, **fields: Any) -> None:
        """Write the final line (once; not again when the last update just wrote it)."""
        if self._closed:
            return
        self._closed = True
        self._fields.update(fields)
        if self._logged_at != self.done or fields:
            self._log.info("%s", self.line())

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def track(
    items: Iterable[_T],
    desc: str,
    *,
    total: int | None = None,
    unit: str = "items",
    interval: float | None = None,
    logger: logging.Logger | None = None,
) -> Iterator[_T]:
    """Yield ``items`` while a :class:`Progress` counts them (``total`` defaults to ``len(items)``)."""
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    with Progress(desc, total, unit=unit, interval=interval, logger=logger) as progress:
        for item in items:
            yield item
            progress.update()
