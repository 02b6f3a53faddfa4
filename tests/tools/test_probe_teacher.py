"""tools/probe_teacher.py: the teacher's source structure, on embeddings whose answer is known."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

_spec = importlib.util.spec_from_file_location(
    "probe_teacher", Path(__file__).resolve().parents[2] / "tools" / "probe_teacher.py"
)
probe = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(probe)


def test_a_teacher_that_hears_the_sources_exactly():
    """3 sources x 4 clips, each clip embedded as its source's axis. Catches a clip counted as its own nearest
    neighbour or pair (self-cosine 1), and a target diagonal summed over the clip itself."""
    sources = [frozenset({s}) for s in "abc" for _ in range(4)]
    audio = np.repeat(np.eye(3), 4, axis=0) * 2.0  # unnormalised on purpose
    s = probe.structure(audio, sources)
    assert s["cos_sharing_a_source"] == pytest.approx(1.0) and s["cos_sharing_none"] == pytest.approx(0.0)
    assert s["nearest_shares_a_source"] == 100.0
    # 3 of the 11 other clips share the source: a batch of 32 holds 31 * 3 / 11 of them at cosine 1
    assert s["a2t_target_diagonal"] == pytest.approx(1 / (1 + 0.3 * 31 * 3 / 11))
    assert s["random_shares_a_source"] == pytest.approx(100 * 3 / 11, abs=6)


def test_a_teacher_that_hears_nothing_but_one_hub():
    """Every clip the same vector plus tiny noise: the cosines do not depend on the sources and the targets
    keep little of their diagonal (the synthetic teacher's case)."""
    rng = np.random.default_rng(0)
    sources = [frozenset({s}) for s in "abcd" for _ in range(5)]
    audio = np.ones((20, 8)) + 0.01 * rng.standard_normal((20, 8))
    s = probe.structure(audio, sources)
    assert s["cos_sharing_a_source"] == pytest.approx(s["cos_sharing_none"], abs=1e-3)
    assert s["a2t_target_diagonal"] == pytest.approx(1 / (1 + 0.3 * 31), abs=1e-3)
