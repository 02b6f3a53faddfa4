"""The download stage: yt-dlp + ffmpeg per shard of clips, manifests, coverage reports."""

from vipant.acquire.coverage import (
    COVERAGE_COLUMNS,
    CoverageTooLow,
    check_min_coverage,
    concat_coverage,
    coverage_report,
    coverage_row,
    require_min_coverage,
    write_coverage,
)
from vipant.acquire.download import YOUTUBE_URL_TEMPLATE, download_shard, valid_ytid
from vipant.acquire.manifest import (
    MANIFEST_COLUMNS,
    PERMANENT_REASONS,
    REASONS,
    RETRYABLE_REASONS,
    clip_id_for,
    journal_path,
    read_manifest,
    read_manifests,
    write_manifest,
)

__all__ = [
    "COVERAGE_COLUMNS",
    "CoverageTooLow",
    "MANIFEST_COLUMNS",
    "PERMANENT_REASONS",
    "REASONS",
    "RETRYABLE_REASONS",
    "YOUTUBE_URL_TEMPLATE",
    "check_min_coverage",
    "clip_id_for",
    "concat_coverage",
    "coverage_report",
    "coverage_row",
    "download_shard",
    "journal_path",
    "read_manifest",
    "read_manifests",
    "require_min_coverage",
    "valid_ytid",
    "write_coverage",
    "write_manifest",
]
