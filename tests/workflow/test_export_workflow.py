"""The workflow exports every AT model it trains (rule ``export_at``), loadable with ``vipant.load_model``."""

import json

import numpy as np
import pytest

import vipant

pytestmark = pytest.mark.workflow


def test_every_at_model_is_exported_with_its_scores(tiny_workflow, snakemake):
    """Catches: an AT model left unexported by `snakemake all`, a card whose scores are not the run's
    metrics.json values, an export that embeds differently from the checkpoint it came from."""
    work = tiny_workflow / "data" / "synthetic"
    curations = ["AC", "FC", "VC", "RC", "GL", "GC"]
    proc = snakemake(tiny_workflow, "-n", "all")
    assert all(f"export/at_{c}" in proc.stdout + proc.stderr for c in curations), proc.stderr[-2000:]
    snakemake(tiny_workflow, *[f"data/synthetic/export/at_{c}" for c in curations])
    for c in curations:
        card = (work / "export" / f"at_{c}" / "README.md").read_text()
        record = json.loads((work / "eval" / f"at_{c}" / "esc50_zs" / "metrics.json").read_text())
        assert f"| esc50_zs | acc_prompt | {record['metrics']['acc_prompt']:.2f} |" in card, c
    exported = vipant.load_model(work / "export" / "at_GC", device="cpu")
    original = vipant.load_model(work / "models" / "at" / "GC" / "model.pt", device="cpu")
    wave = np.sin(np.arange(32000, dtype=np.float32) * 0.05) * 0.3
    assert np.array_equal(exported.embed_audio(wave, sample_rate=16000), original.embed_audio(wave, sample_rate=16000))
