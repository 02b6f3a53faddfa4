"""Loaders for the real datasets' metadata formats (also used for the synthetic world).

One module per dataset; shared error type and skip-mode conventions live in :mod:`.common`, the
column spec and the one checked CSV reader the loaders declare their files with in :mod:`.columns`.
"""

from vipant.datasets.audioset import clip_id
from vipant.datasets.common import DatasetFormatError, Skipped, safe_member_path

__all__ = ["DatasetFormatError", "Skipped", "clip_id", "safe_member_path"]
