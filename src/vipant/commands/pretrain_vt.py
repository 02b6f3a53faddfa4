"""``vipant pretrain-vt``: train the synthetic preset's small CLIP (see :mod:`vipant.train.pretrain_vt`)."""

from __future__ import annotations

import json
from pathlib import Path

from vipant.commands.common import tracked


def run(corpus: Path, model_cfg: dict, train_cfg: dict, out: Path, metrics_out: Path, track_json: str | None) -> None:
    from vipant.atomic import write_json
    from vipant.train.pretrain_vt import VTTrainConfig, train_vt

    cfg = VTTrainConfig.from_dict(train_cfg)
    with tracked(track_json, system_metrics=True, model=model_cfg, train=train_cfg) as mlrun:
        metrics = train_vt(corpus, model_cfg, cfg, out, on_epoch=lambda e, m: mlrun.log_metrics(m, step=e))
        mlrun.log_metrics({f"final_{k}": v for k, v in metrics.items()})
    write_json(metrics_out, {"model": "vt", "task": "image_text_retrieval", "metrics": metrics})


def add_parser(sub) -> None:
    p = sub.add_parser("pretrain-vt", help="train the synthetic preset's small CLIP on the image-caption corpus")
    p.add_argument("--corpus", required=True, help="folder with train.csv / val.csv (open_clip CSV format)")
    p.add_argument("--model-json", required=True, help="open_clip model config as JSON")
    p.add_argument("--train-json", default="{}", help="VTTrainConfig fields as JSON")
    p.add_argument("--out", required=True)
    p.add_argument("--metrics", required=True)
    p.add_argument("--track-json")
    p.set_defaults(
        func=lambda a: run(
            Path(a.corpus),
            json.loads(a.model_json),
            json.loads(a.train_json),
            Path(a.out),
            Path(a.metrics),
            a.track_json,
        )
    )
