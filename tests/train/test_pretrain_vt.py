"""``train_vt`` on a tiny corpus: a checkpoint is written and every epoch reports retrieval and naming."""

from __future__ import annotations

import torch

from vipant.atomic import write_bytes
from vipant.checkpoint import load_checkpoint
from vipant.synth import vt_corpus
from vipant.synth.config import WorldConfig
from vipant.train.pretrain_vt import VTTrainConfig, random_greyscale, train_vt

MODEL = {
    "embed_dim": 32,
    "quick_gelu": True,
    "vision_cfg": {"image_size": 224, "layers": 1, "width": 32, "patch_size": 32, "head_width": 16},
    "text_cfg": {"context_length": 16, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 1},
}


def test_random_greyscale_turns_the_drawn_share_grey_and_leaves_the_rest():
    images = torch.randint(0, 256, (400, 3, 8, 8), dtype=torch.uint8)
    assert random_greyscale(images, 0.0, torch.Generator().manual_seed(0)) is images  # no draw at prob 0
    out = random_greyscale(images, 0.25, torch.Generator().manual_seed(0))
    grey = (out[:, 0] == out[:, 1]).flatten(1).all(1) & (out[:, 1] == out[:, 2]).flatten(1).all(1)
    assert 60 <= int(grey.sum()) <= 140  # ~100 of 400
    assert torch.equal(out[~grey], images[~grey])
    mean = images[grey].float().mean(dim=1).round().to(torch.uint8)
    assert torch.equal(out[grey][:, 0], mean)
    again = random_greyscale(images, 0.25, torch.Generator().manual_seed(0))
    assert torch.equal(out, again) and images.dtype == out.dtype


def test_train_vt_reports_retrieval_and_naming_each_epoch(tmp_path):
    pairs = vt_corpus.plan(WorldConfig.tiny())
    vt_corpus.write(pairs, tmp_path, lambda fn, items: map(fn, items))
    for name, text in vt_corpus.metadata(pairs).items():
        write_bytes(tmp_path / name, text.encode())
    seen = []
    torch.set_num_threads(1)
    metrics = train_vt(
        tmp_path / "vt_corpus",
        MODEL,
        VTTrainConfig(epochs=2, batch_size=16, grey_prob=0.2),
        tmp_path / "vt.pt",
        on_epoch=lambda epoch, m: seen.append((epoch, m)),
    )
    assert [e for e, _ in seen] == [0, 1] and seen[-1][1] == metrics
    for key in ("i2t_R@1", "i2t_R@5", "naming_top1", "naming_same_colour", "naming_same_shape"):
        assert 0.0 <= metrics[key] <= 100.0, key
        assert metrics[f"chance_{key.replace('i2t_', '')}"] > 0, key
    # the same probe on greyscale renderings, after the last epoch only
    for key in ("grey_naming_top1", "grey_naming_same_shape"):
        assert 0.0 <= metrics[key] <= 100.0, key
        assert key not in seen[0][1], key
    saved = load_checkpoint(tmp_path / "vt.pt")
    assert saved["config"] == MODEL and saved["metrics"] == metrics
