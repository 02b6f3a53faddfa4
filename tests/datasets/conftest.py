"""Fixtures shared by the dataset-loader tests: writing an index file, and the checks every loader's
malformed-row and skip-mode tests make.

pytest runs with ``--import-mode=importlib``, so test modules cannot import helpers from here or from
each other; the helpers are fixtures that return functions.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from vipant.datasets.common import DatasetFormatError

WriteFile = Callable[[str, str], Path]
Refused = Callable[..., DatasetFormatError]


@pytest.fixture
def write_file(tmp_path: Path) -> WriteFile:
    """``write_file(relative, text)``: write ``text`` to ``tmp_path / relative`` (folders made) and return it.

    Writing again to the same name replaces the file, as the tests' variants of one index file need.
    """

    def write(relative: str, text: str) -> Path:
        p = tmp_path / relative
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
        return p

    return write


@pytest.fixture
def refused() -> Refused:
    """``refused(read, path, line, needle, **kwargs)``: ``read(path, **kwargs)`` must raise a
    DatasetFormatError naming ``path`` and ``line`` (attributes and message prefix ``"{path}:{line}: "``)
    whose problem contains ``needle``; returns the error for further checks."""

    def check(read: Callable[..., Any], path: Path, line: int, needle: str, **kwargs: Any) -> DatasetFormatError:
        with pytest.raises(DatasetFormatError) as info:
            read(path, **kwargs)
        err = info.value
        assert err.path == Path(path) and err.line == line, str(err)
        assert str(err).startswith(f"{path}:{line}: "), str(err)
        assert needle in err.problem, str(err)
        return err

    return check


@pytest.fixture
def skipped_lines() -> Callable[[pd.DataFrame], list[int | None]]:
    """``skipped_lines(df)``: the lines of the rows a skip-mode read recorded in ``df.attrs["skipped"]``."""

    def lines(df: pd.DataFrame) -> list[int | None]:
        return [s.line for s in df.attrs["skipped"]]

    return lines
