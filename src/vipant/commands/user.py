"""``vipant classify``, ``vipant search``, ``vipant embed``: a trained audio encoder on your own audio files.

These are for researchers, not for the workflow: they take any audio files (wav, flac, mp3, ogg, m4a,
video with sound; any sample rate or channel count), decode them to 16 kHz mono, compute FBANK features
as the workflow does, and compare them with text in the frozen CLIP space. A file that cannot be used is
reported on one stderr line (file: reason), the others still run, and the exit status is 1 if any
failed. Heavy imports happen inside the functions so ``vipant --help`` stays fast.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import textwrap
from pathlib import Path

log = logging.getLogger(__name__)

LENGTH_POLICY = (
    "Audio up to the model's window (10 s for the workflow's checkpoints) is zero-padded to it; "
    "longer audio (e.g. a 70 s recording) is cut into ceil(duration / 10 s) full windows spread "
    "evenly over the whole file, and its embedding is the normalised mean of the windows' embeddings."
)

MODEL_HELP = (
    "Model: --checkpoint is any audio-encoder checkpoint the workflow wrote (<work_dir>/models/at/<curation>/"
    "model.pt or models/va/<name>/model.pt); without it, the newest AT model of the preset in ./config.yaml "
    "(or --config). The text encoder and FBANK statistics come from the checkpoint itself, else from the "
    "workflow folder around it (<work_dir>/models/vt/model.pt, <work_dir>/fbank/stats.json); --vt and "
    "--stats override both."
)


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Examples kept as written (descriptions are wrapped by :func:`_describe`)."""


def _describe(*paragraphs: str) -> str:
    return "\n\n".join(textwrap.fill(par, 100) for par in paragraphs)


def _model_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("model")
    g.add_argument("--checkpoint", help="audio-encoder checkpoint (default: newest AT model of the preset in --config)")
    g.add_argument(
        "--config",
        default="config.yaml",
        help="workflow config used to find the default checkpoint (default ./config.yaml)",
    )
    g.add_argument(
        "--vt",
        help="frozen VT model: a pretrain_vt model.pt, or an open_clip spec as JSON "
        '(\'{"name": "ViT-B-32-quickgelu", "pretrained": "openai"}\')',
    )
    g.add_argument("--stats", help="FBANK stats.json (mean/std of the VA training split)")
    g.add_argument("--device", default="auto", help="auto (default: CUDA if available), cpu, cuda, cuda:1, ...")
    g.add_argument("--threads", type=int, help="CPU threads (results are bit-identical for the same count)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar and no info messages")


def _load(args: argparse.Namespace):
    """The inference model, or a one-line error naming what is missing and what to pass."""
    from vipant.checkpoint import CheckpointError
    from vipant.inference.locate import LocateError
    from vipant.inference.model import load_inference_model
    from vipant.models.vt import VTLoadError

    if args.quiet:
        logging.getLogger().setLevel(logging.WARNING)
    try:
        return load_inference_model(
            args.checkpoint, config=args.config, vt=args.vt, stats=args.stats, device=args.device, threads=args.threads
        )
    except (LocateError, CheckpointError, VTLoadError) as err:
        raise SystemExit(f"vipant {args.command}: error: {err}") from err


def _finish(results) -> None:
    """Exit status 1 when any file failed (each was already reported on its own line)."""
    failed = [r for r in results if not r.ok]
    if failed:
        log.error("%d of %d files failed", len(failed), len(results))
        raise SystemExit(1)


def parse_labels(text: str | None, path: str | None) -> list[str]:
    """Labels from ``--labels "a,b,c"`` and/or ``--labels-file`` (one per line); blanks dropped, duplicates
    dropped keeping the first."""
    labels: list[str] = []
    if text:
        labels += [t.strip() for t in text.split(",")]
    if path:
        try:
            labels += [line.strip() for line in Path(path).read_text().splitlines()]
        except (OSError, UnicodeDecodeError) as err:
            raise SystemExit(f"vipant classify: error: --labels-file {path}: {err}") from err
    labels = list(dict.fromkeys(t for t in labels if t))
    if not labels:
        raise SystemExit('vipant classify: error: no labels given (--labels "dog barking,rain" or --labels-file)')
    return labels


def classify(args: argparse.Namespace) -> None:
    from vipant.evaluate.zero_shot import class_prompts
    from vipant.inference.embedder import embed_files, embed_texts, top_k

    labels = parse_labels(args.labels, args.labels_file)
    model = _load(args)
    text = embed_texts(model, class_prompts(labels, prompt=args.prompt)).numpy()
    results = embed_files(model, args.files, progress=not args.quiet)
    k = min(args.top_k, len(labels)) if args.top_k > 0 else len(labels)
    report = []
    for r in results:
        entry = {"path": r.path}
        if r.ok:
            entry["top"] = [{"label": lab, "score": round(s, 6)} for lab, s in top_k(text @ r.vector, labels, k)]
        else:
            entry["error"] = r.error
        report.append(entry)
    if args.json:
        json.dump(report, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        width = max(len(lab) for lab in labels)
        for entry in report:
            if "top" not in entry:
                continue
            print(entry["path"])
            for rank, item in enumerate(entry["top"], 1):
                print(f"  {rank:>2}  {item['score']:+.4f}  {item['label']:<{width}}".rstrip())
    sys.stdout.flush()
    _finish(results)


def search(args: argparse.Namespace) -> None:
    import numpy as np

    from vipant.inference.embedder import embed_files, embed_texts, top_k
    from vipant.inference.files import find_audio_files

    paths = find_audio_files(args.paths)
    if not paths:
        raise SystemExit(f"vipant search: error: no audio files under {', '.join(args.paths)}")
    model = _load(args)
    query = embed_texts(model, [args.query]).numpy()[0]
    results = embed_files(model, paths, progress=not args.quiet)
    ok = [r for r in results if r.ok]
    scores = np.array([float(query @ r.vector) for r in ok])
    best = top_k(scores, [r.path for r in ok], args.top_k if args.top_k > 0 else len(ok))
    ranked = [{"rank": i + 1, "score": round(score, 6), "path": path} for i, (path, score) in enumerate(best)]
    if args.json:
        failed = [{"path": r.path, "error": r.error} for r in results if not r.ok]
        json.dump(
            {"query": args.query, "n_files": len(results), "results": ranked, "failed": failed}, sys.stdout, indent=2
        )
        sys.stdout.write("\n")
    else:
        for item in ranked:
            print(f"{item['rank']:>4}  {item['score']:+.4f}  {item['path']}")
    sys.stdout.flush()
    _finish(results)


def embed(args: argparse.Namespace) -> None:
    import numpy as np
    import pandas as pd

    from vipant import __version__
    from vipant.atomic import atomic_path, write_csv, write_json
    from vipant.inference.embedder import embed_files

    out = Path(args.out)
    model = _load(args)
    results = embed_files(model, args.files, progress=not args.quiet)
    ok = [r for r in results if r.ok]
    array = np.stack([r.vector for r in ok]).astype(np.float32) if ok else np.zeros((0, model.dim), np.float32)
    rows, row = [], 0
    for r in results:
        rows.append(
            {
                "row": row if r.ok else -1,
                "path": r.path,
                "status": "ok" if r.ok else "failed",
                "reason": r.error or "",
                "duration_s": round(r.duration_s, 3),
                "windows": r.windows,
            }
        )
        row += r.ok
    # array first, provenance, then the row index last: its presence means the set is complete
    with atomic_path(out) as tmp:
        np.save(tmp, array)
    write_json(
        out.with_suffix(".json"),
        {
            **model.provenance,
            "rows": len(ok),
            "dim": model.dim,
            "normalised": True,
            "vipant": __version__,
            "policy": LENGTH_POLICY,
        },
    )
    write_csv(
        out.with_suffix(".csv"),
        pd.DataFrame(rows, columns=["row", "path", "status", "reason", "duration_s", "windows"]),
    )
    log.info(
        "%s: %d x %d float32 (%d failed); rows listed in %s",
        out,
        *array.shape,
        len(results) - len(ok),
        out.with_suffix(".csv"),
    )
    _finish(results)


def _npy_path(value: str) -> str:
    if not value.endswith(".npy"):
        raise argparse.ArgumentTypeError(f"{value!r}: the output must be a .npy file (sidecars get .csv and .json)")
    return value


def add_parsers(sub) -> None:
    p = sub.add_parser(
        "classify",
        formatter_class=_Formatter,
        help="zero-shot classification of your audio files against your labels",
        description=_describe(
            'Zero-shot classification: each file is compared with the text "the sound of <label>" '
            "(as in the paper's zero-shot evaluation; --no-prompt uses the bare label) and the "
            "top-k labels are printed with their cosine similarity.",
            LENGTH_POLICY,
            MODEL_HELP,
        ),
        epilog="examples:\n"
        '  vipant classify dog.wav street.mp3 --labels "dog barking,rain,car horn"\n'
        "  vipant classify clips/*.flac --labels-file labels.txt --top-k 5 --json > scores.json\n"
        '  vipant classify a.ogg --labels "siren,engine" --checkpoint data/synthetic/models/at/GC/model.pt',
    )
    p.add_argument("files", nargs="+", metavar="FILE", help="audio files (any format ffmpeg reads)")
    p.add_argument("--labels", help="comma-separated class labels")
    p.add_argument("--labels-file", help="text file with one label per line")
    p.add_argument("--top-k", type=int, default=3, help="labels printed per file, 0 for all (default 3)")
    p.add_argument(
        "--prompt",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="embed 'the sound of <label>' (default) or the bare label",
    )
    p.add_argument("--json", action="store_true", help="machine-readable output on stdout")
    _model_options(p)
    p.set_defaults(func=classify)

    p = sub.add_parser(
        "search",
        formatter_class=_Formatter,
        help="rank the audio files under a folder by similarity to a text query",
        description=_describe(
            "Text-to-audio search: every audio file under each DIR (recursively; extensions "
            f"{' '.join(sorted(_extensions()))}) or given as a file is embedded and ranked by "
            "cosine similarity to the query. Prints rank, score, path.",
            LENGTH_POLICY,
            MODEL_HELP,
        ),
        epilog="examples:\n"
        '  vipant search --query "a car passes by" recordings/\n'
        '  vipant search --query "dog barking" recordings/ extra.wav --top-k 0 --json',
    )
    p.add_argument("paths", nargs="+", metavar="DIR", help="folders to search (or single files)")
    p.add_argument("--query", required=True, help="the text to search for (used as written, no prompt)")
    p.add_argument("--top-k", type=int, default=10, help="results printed, 0 for all files (default 10)")
    p.add_argument("--json", action="store_true", help="machine-readable output on stdout")
    _model_options(p)
    p.set_defaults(func=search)

    p = sub.add_parser(
        "embed",
        formatter_class=_Formatter,
        help="write L2-normalised audio embeddings of your files to a .npy array",
        description=_describe(
            "Writes OUT (.npy, float32, one L2-normalised row per file that could be embedded) and "
            "two sidecars: OUT.csv lists every input file with its row (-1 when it failed), "
            "status, reason, duration and number of windows; OUT.json records the checkpoint, VT "
            "model and FBANK stats used. All three are written atomically. Same file, same "
            "vector, bit for bit (same machine, same --threads).",
            LENGTH_POLICY,
            MODEL_HELP,
        ),
        epilog="examples:\n"
        "  vipant embed clips/*.wav --out emb.npy\n"
        "  vipant embed a.mp3 b.flac --out emb.npy --checkpoint data/synthetic/models/va/vipant/model.pt",
    )
    p.add_argument("files", nargs="+", metavar="FILE", help="audio files (any format ffmpeg reads)")
    p.add_argument("--out", required=True, type=_npy_path, help="output array (.npy)")
    _model_options(p)
    p.set_defaults(func=embed)


def _extensions() -> frozenset[str]:
    from vipant.inference.files import AUDIO_EXTENSIONS  # import-free module: --help stays fast

    return AUDIO_EXTENSIONS
