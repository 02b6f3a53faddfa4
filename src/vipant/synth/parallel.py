"""Run media tasks in ``jobs`` worker processes, results in input order.

Every task is a pure function of its (picklable) argument, so the bytes produced do not depend on the
number of workers or on which worker ran a task.
"""

from __future__ import annotations

import contextlib
import multiprocessing
from typing import Any, Callable, Iterable, Iterator, Protocol, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class Mapper(Protocol):
    """``mapper(fn, items)`` yields ``fn(item)`` for each item, in order."""

    def __call__(self, fn: Callable[[Any], R], items: Iterable[Any]) -> Iterator[R]: ...


@contextlib.contextmanager
def mapper(jobs: int) -> Iterator[Mapper]:
    """A Mapper over ``jobs`` processes (``spawn``: safe beside threads); in-process when ``jobs <= 1``."""
    if jobs <= 1:
        yield lambda fn, items: map(fn, items)
        return
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(processes=jobs) as pool:
        yield lambda fn, items: pool.imap(fn, items, chunksize=1)
        pool.close()
        pool.join()
