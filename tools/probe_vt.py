"""Design probe of the synthetic VT: how well does it name single objects in colour and in grey?

For each world seed and each ``grey_prob`` (the share of VT training images shown in greyscale), generate
the world (once per seed), train the VT with the synthetic preset's recipe and that ``grey_prob``, and
read its naming probe (``naming_top1`` in colour, ``grey_naming_top1`` in grey; chance 1/48). The probe
images are rendered single objects: no audio and no test table is seen.

The rule that picks ``grey_prob``, fixed before the runs: the highest mean ``grey_naming_top1`` over the
seeds, among the values whose mean colour naming is at least 0.8 x the best mean colour naming.

    python tools/probe_vt.py --textures --seeds 0 1 --grey-probs 0 0.5 --out probes/vt
    python tools/probe_vt.py --textures --seeds 0 1 --grey-probs 0 0.5 --out probes/vt --summary-only
    python tools/probe_vt.py --textures --vt-pairs 6000 --epochs 8 --grey-probs 0.5 0 --out probes/vt-6k
    python tools/probe_vt.py --textures --pattern-words --vt-pairs 6000 --epochs 8 --grey-probs 0.5 \
        --out probes/vt-patterns
    python tools/probe_vt.py --textures --tower-steps 600 --vt-pairs 6000 --epochs 8 --grey-probs 0.5 \
        --out probes/vt-tower

A world already in ``--out`` is reused as it is (use a fresh ``--out`` after changing the world options).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

COLOUR_SHARE = 0.8  # a grey_prob qualifies if its colour naming is at least this share of the best


def vipant(*args: str, log: Path) -> None:
    """Run a ``vipant`` command (the workflow's own), its output in ``log``; stop with the log's tail on failure."""
    with log.open("w") as fh:
        rc = subprocess.call([sys.executable, "-m", "vipant.cli", *args], stdout=fh, stderr=subprocess.STDOUT)
    if rc:
        sys.exit(f"vipant {args[0]} failed (exit {rc}); see {log}:\n" + "".join(log.read_text().splitlines(True)[-20:]))


def run_one(
    preset: dict, seed: int, grey_prob: float, out: Path, jobs: int, textures: bool, pattern_words: bool = False
) -> Path:
    world = out / f"world-{seed}"
    if not (world / "world.json").exists():
        cfg = {**preset["world"], "seed": seed, "textures": textures, "pattern_words": pattern_words}
        vipant(
            "synth",
            "--config-json",
            json.dumps(cfg),
            "--out",
            str(world),
            "--jobs",
            str(jobs),
            log=out / f"synth-{seed}.log",
        )
    run = out / f"seed{seed}-grey{grey_prob:g}"
    metrics = run / "metrics.json"
    if not metrics.exists():
        run.mkdir(parents=True, exist_ok=True)
        vipant(
            "pretrain-vt",
            "--corpus",
            str(world / "vt_corpus"),
            "--model-json",
            json.dumps(preset["vt"]["model"]),
            "--train-json",
            json.dumps({**preset["vt"]["train"], "grey_prob": grey_prob}),
            "--out",
            str(run / "model.pt"),
            "--metrics",
            str(metrics),
            log=run / "pretrain_vt.log",
        )
    return metrics


def choose(rows: list[dict]) -> float:
    """The pre-registered rule (module docstring) over per-(seed, grey_prob) rows."""
    by_p: dict[float, list[dict]] = {}
    for r in rows:
        by_p.setdefault(r["grey_prob"], []).append(r)
    keys = ("naming_top1", "grey_naming_top1")
    mean = {p: {k: sum(r[k] for r in rs) / len(rs) for k in keys} for p, rs in by_p.items()}
    best_colour = max(m["naming_top1"] for m in mean.values())
    eligible = [p for p, m in mean.items() if m["naming_top1"] >= COLOUR_SHARE * best_colour]
    return max(eligible, key=lambda p: (mean[p]["grey_naming_top1"], -p))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", type=Path, default=Path("config.yaml"))
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    ap.add_argument("--grey-probs", type=float, nargs="+", default=[0.0, 0.5])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--textures", action="store_true", help="probe the textured world (world option `textures`)")
    ap.add_argument(
        "--pattern-words", action="store_true", help="with --textures: captions name patterns (`pattern_words`)"
    )
    ap.add_argument("--vt-pairs", type=int, help="VT corpus size (world option `vt_pairs`; default: the preset's)")
    ap.add_argument("--epochs", type=int, help="VT training epochs (default: the preset's)")
    ap.add_argument("--tower-steps", type=int, help="supervised tower steps first (VT option `tower_steps`)")
    ap.add_argument("--summary-only", action="store_true", help="only read the runs already in --out")
    args = ap.parse_args()
    preset = yaml.safe_load(args.config.read_text())["presets"]["synthetic"]
    if args.vt_pairs:
        preset["world"]["vt_pairs"] = args.vt_pairs
    if args.epochs:
        preset["vt"]["train"]["epochs"] = args.epochs
    if args.tower_steps:
        preset["vt"]["train"]["tower_steps"] = args.tower_steps
    args.out.mkdir(parents=True, exist_ok=True)
    rows = []
    for seed in args.seeds:
        for p in args.grey_probs:
            path = args.out / f"seed{seed}-grey{p:g}" / "metrics.json"
            if not args.summary_only:
                path = run_one(preset, seed, p, args.out, args.jobs, args.textures, args.pattern_words)
            if path.exists():
                m = json.loads(path.read_text())["metrics"]
                rows.append(
                    {
                        "seed": seed,
                        "grey_prob": p,
                        "naming_top1": m["naming_top1"],
                        "grey_naming_top1": m["grey_naming_top1"],
                        "grey_same_texture": m.get("grey_naming_same_texture", float("nan")),
                        "chance": m.get("chance_naming_top1"),
                    }
                )
    print("seed  grey_prob  naming_top1  grey_naming_top1  grey_same_texture  chance")
    for r in rows:
        print(
            f"{r['seed']:>4}  {r['grey_prob']:>9g}  {r['naming_top1']:>11.1f}  {r['grey_naming_top1']:>16.1f}"
            f"  {r['grey_same_texture']:>17.1f}  {r['chance']:.1f}"
        )
    if rows and len({r["grey_prob"] for r in rows}) == len(args.grey_probs):
        print(f"chosen grey_prob (rule in the docstring): {choose(rows):g}")


if __name__ == "__main__":
    main()
