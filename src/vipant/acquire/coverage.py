"""How much of each requested split was actually obtained.

Real AudioSet loses 13–18 % of its clips to deleted or private videos, so the pipeline does not fail on
missing clips: it reports, per (dataset, split), how many were requested, obtained, failed (by reason)
and never attempted (``missing`` from every manifest), and warns about splits below a threshold.

Columns (:data:`COVERAGE_COLUMNS`): ``dataset, split, requested, ok, failed, missing, coverage`` and
one ``failed_<reason>`` per reason of :data:`~vipant.acquire.manifest.REASONS` (always present, 0 when
none). ``coverage = ok / requested`` (NaN for an empty split). Callers append rows for local datasets
(Clotho, ESC-50...) with :func:`coverage_row`.
"""

from __future__ import annotations

import logging
import math
import os
from pathlib import Path
from typing import Iterable, Mapping

import pandas as pd

from vipant.acquire.manifest import (
    REASONS,
    RETRYABLE_REASONS,
    STATUS_FAILED,
    STATUS_OK,
    normalize_manifest,
    read_manifests,
)
from vipant.atomic import write_csv

log = logging.getLogger(__name__)

REASON_COLUMNS = [f"failed_{r}" for r in REASONS]
COVERAGE_COLUMNS = ["dataset", "split", "requested", "ok", "failed", "missing", "coverage", *REASON_COLUMNS]
_COUNT_COLUMNS = ["requested", "ok", "failed", "missing", *REASON_COLUMNS]


def coverage_row(
    dataset: str,
    split: str,
    requested: int,
    ok: int,
    failed_by_reason: Mapping[str, int] | None = None,
    missing: int | None = None,
) -> pd.DataFrame:
    """One coverage row (e.g. for a local dataset), with every column of :data:`COVERAGE_COLUMNS`."""
    failed_by_reason = dict(failed_by_reason or {})
    unknown = set(failed_by_reason) - set(REASONS)
    if unknown:
        raise ValueError(f"unknown failure reasons {sorted(unknown)}")
    failed = int(sum(failed_by_reason.values()))
    if missing is None:
        missing = max(int(requested) - int(ok) - failed, 0)
    row = {
        "dataset": dataset,
        "split": split,
        "requested": int(requested),
        "ok": int(ok),
        "failed": failed,
        "missing": int(missing),
        "coverage": (int(ok) / int(requested)) if requested else math.nan,
    }
    for r in REASONS:
        row[f"failed_{r}"] = int(failed_by_reason.get(r, 0))
    return pd.DataFrame([row], columns=COVERAGE_COLUMNS)


def coverage_report(requests: pd.DataFrame, manifests: pd.DataFrame) -> pd.DataFrame:
    """Coverage per (dataset, split) of ``requests`` (columns ``dataset, split, clip_id``).

    ``manifests`` is the concatenation of download manifests (any number of shards). A clip that
    appears several times counts as ok if any row is ok, else by its last failed row. Requested clip
    ids are de-duplicated within a split.
    """
    missing_cols = {"dataset", "split", "clip_id"} - set(requests.columns)
    if missing_cols:
        raise ValueError(f"requests lack columns {sorted(missing_cols)}")
    man = normalize_manifest(manifests)
    # one outcome per clip: ok wins over failed, else the last failure
    man = man.assign(_ok=(man["status"] == STATUS_OK).astype(int)).reset_index(drop=True)
    man = man.assign(_order=range(len(man))).sort_values(["clip_id", "_ok", "_order"])
    outcome = man.drop_duplicates("clip_id", keep="last").set_index("clip_id")

    req = requests[["dataset", "split", "clip_id"]].copy()
    req["clip_id"] = req["clip_id"].astype(str)
    req = req.drop_duplicates(["dataset", "split", "clip_id"])
    status = req["clip_id"].map(outcome["status"]).fillna("")
    reason = req["clip_id"].map(outcome["reason"]).fillna("")

    rows = []
    for (dataset, split), idx in req.groupby(["dataset", "split"], sort=True, dropna=False).groups.items():
        st = status.loc[idx]
        rs = reason.loc[idx][st == STATUS_FAILED]
        counts = rs.value_counts().to_dict()
        other = {k: v for k, v in counts.items() if k not in REASONS}
        if other:  # a malformed manifest; count them as decode errors rather than lose them
            log.warning("unknown failure reasons in manifests: %s", other)
            counts = {k: v for k, v in counts.items() if k in REASONS}
            counts["decode_error"] = counts.get("decode_error", 0) + sum(other.values())
        n_missing = int((st == "").sum())
        rows.append(
            coverage_row(str(dataset), str(split), len(idx), int((st == STATUS_OK).sum()), counts, missing=n_missing)
        )
    if not rows:
        return pd.DataFrame(columns=COVERAGE_COLUMNS)
    return pd.concat(rows, ignore_index=True)


def concat_coverage(frames: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """Stack coverage frames (e.g. download coverage + local-dataset rows), columns normalised."""
    frames = [f for f in frames if f is not None and len(f)]
    if not frames:
        return pd.DataFrame(columns=COVERAGE_COLUMNS)
    out = pd.concat(frames, ignore_index=True)
    for col in COVERAGE_COLUMNS:
        if col not in out.columns:
            out[col] = 0
    out = out[COVERAGE_COLUMNS]
    for col in _COUNT_COLUMNS:
        out[col] = pd.to_numeric(out[col], errors="coerce").fillna(0).astype(int)
    return out


def write_coverage(path: str | os.PathLike[str], frame: pd.DataFrame) -> None:
    """Write a coverage table atomically (CSV)."""
    write_csv(path, concat_coverage([frame]) if len(frame) else pd.DataFrame(columns=COVERAGE_COLUMNS))


def check_min_coverage(frame: pd.DataFrame, threshold: float) -> list[tuple[str, str, float]]:
    """Log a warning for every split whose coverage is below ``threshold``; return those splits.

    Never raises: missing clips are expected (deleted videos) and the pipeline goes on.
    """
    low = []
    for row in frame.to_dict("records"):
        cov = row.get("coverage")
        if cov is None or (isinstance(cov, float) and math.isnan(cov)):
            continue
        if float(cov) < threshold:
            failures = {k[len("failed_") :]: int(row[k]) for k in REASON_COLUMNS if int(row.get(k, 0) or 0)}
            log.warning(
                "coverage of %s/%s is %.1f%% (%d of %d clips), below %.1f%%; failures: %s, missing: %d",
                row["dataset"],
                row["split"],
                100 * float(cov),
                int(row["ok"]),
                int(row["requested"]),
                100 * threshold,
                failures or "none",
                int(row.get("missing", 0) or 0),
            )
            low.append((str(row["dataset"]), str(row["split"]), float(cov)))
    return low


class CoverageTooLow(RuntimeError):
    """A split's coverage is below the threshold that training requires."""


def require_min_coverage(
    frame: pd.DataFrame,
    threshold: float,
    *,
    allow_low: bool = False,
    source: str = "coverage report",
) -> list[tuple[str, str, float]]:
    """The training gate: raise :class:`CoverageTooLow` when a split's coverage is below ``threshold``.

    The error names every such split with its numbers (ok of requested, failures by reason), and says
    how many clips a rerun would try again (``network``/``blocked``). With ``allow_low`` the splits are
    only logged (config ``download.allow_low_coverage``). Returns the low splits.
    """
    low = check_min_coverage(frame, threshold)
    if not low or allow_low:
        if low:
            log.warning(
                "%s: training goes on below min_coverage %.3f (download.allow_low_coverage is set)", source, threshold
            )
        return low
    rows = {(str(r["dataset"]), str(r["split"])): r for r in frame.to_dict("records")}
    lines = []
    for dataset, split, cov in low:
        row = rows[(dataset, split)]
        failures = {k[len("failed_") :]: int(row[k]) for k in REASON_COLUMNS if int(row.get(k, 0) or 0)}
        retryable = sum(failures.get(r, 0) for r in RETRYABLE_REASONS)
        lines.append(
            f"  {dataset}/{split}: coverage {cov:.3f} ({int(row['ok'])} of {int(row['requested'])} clips)"
            f" < min_coverage {threshold:.3f}; failures {failures or 'none'},"
            f" missing {int(row.get('missing', 0) or 0)}; {retryable} retryable"
        )
    raise CoverageTooLow(
        f"{source}: {len(low)} split(s) below download.min_coverage, so training does not start:\n"
        + "\n".join(lines)
        + "\nRun the download stage again later (blocked and network clips are retried; docs/download.md), "
        "or set download.allow_low_coverage: true to train on what there is."
    )


# Which dataset each FBANK collection belongs to (the collection folder's name -> dataset in requests).
COLLECTION_DATASET = {
    "audioset": None,  # YouTube clips: AudioSet and AudioCaps requests, outcome from the download
    "clotho_development": "clotho",
    "clotho_evaluation": "clotho",
    "esc50": "esc50",
    "us8k": "us8k",
    "tut17": "tut17",
}
YOUTUBE_DATASETS = ("audioset", "audiocaps")


def coverage_from_files(
    requests_path: str | os.PathLike[str],
    manifest_paths: Iterable[str | os.PathLike[str]],
    fbank_index_paths: Iterable[str | os.PathLike[str]],
) -> pd.DataFrame:
    """The workflow's coverage report: a clip counts as ok only if it has usable FBANK features.

    YouTube clips take their outcome from the download manifests, overridden by a FBANK failure
    (``decode_error``); clips of local datasets take it from their collection's FBANK index. Each
    dataset is matched only against its own outcomes, so equal file names in two datasets never mix.
    """
    requests = pd.read_csv(requests_path, dtype=str, keep_default_na=False)
    downloads = read_manifests(manifest_paths)[["clip_id", "status", "reason"]]
    local: dict[str, list[pd.DataFrame]] = {}
    youtube_fbank = pd.DataFrame(columns=["clip_id", "status", "reason"])
    for path in fbank_index_paths:
        collection = Path(path).parent.name
        if collection not in COLLECTION_DATASET:
            raise ValueError(f"{path}: unknown FBANK collection {collection!r}")
        index = pd.read_csv(path, dtype=str, keep_default_na=False)[["clip_id", "status", "reason"]]
        dataset = COLLECTION_DATASET[collection]
        if dataset is None:
            youtube_fbank = index
        else:
            local.setdefault(dataset, []).append(index)

    fbank_failed = youtube_fbank[youtube_fbank["status"] == STATUS_FAILED].set_index("clip_id")["reason"]
    outcome = downloads.copy()
    broken = (outcome["status"] == STATUS_OK) & outcome["clip_id"].isin(fbank_failed.index)
    outcome.loc[broken, "status"] = STATUS_FAILED
    outcome.loc[broken, "reason"] = outcome.loc[broken, "clip_id"].map(fbank_failed)

    parts = [coverage_report(requests[requests["dataset"].isin(YOUTUBE_DATASETS)], outcome)]
    for dataset, indexes in sorted(local.items()):
        parts.append(coverage_report(requests[requests["dataset"] == dataset], pd.concat(indexes, ignore_index=True)))
    return concat_coverage(parts)
