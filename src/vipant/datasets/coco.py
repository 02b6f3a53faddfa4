"""MSCOCO captions: ``annotations/captions_{train,val}2017.json``.

Top level ``{"info", "licenses", "images": [{id, file_name, width, height, ...}],
"annotations": [{image_id, id, caption}]}``. Real captions carry stray spaces and newlines
(``"A man riding a bike. \\n"``); they are whitespace-normalised here. JSON errors name the line
of the entry's ``"id"`` when it can be found in the text (pretty-printed files), else no line.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

import pandas as pd

from vipant.datasets.common import (
    DatasetFormatError,
    OnError,
    PathLike,
    RowCollector,
    frame,
    read_text,
    require_file,
    safe_member_path,
)

logger = logging.getLogger(__name__)


class _Locator:
    """Finds, only when an error is reported, the line of an entry's ``"id": N`` in the JSON text."""

    def __init__(self, text: str, section: str) -> None:
        self.text = text
        self.start = max(text.find(f'"{section}"'), 0)
        self.one_line = "\n" not in text.strip()

    def __call__(self, value: Any, nth: int = 1) -> int | None:
        if self.one_line or not _is_int(value):
            return None
        pattern = re.compile(r'"id"\s*:\s*%d(?![0-9])' % value)
        pos = self.start - 1
        for _ in range(nth):
            m = pattern.search(self.text, pos + 1)
            if m is None:
                return None
            pos = m.start()
        return self.text.count("\n", 0, pos) + 1


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def read_captions(path: PathLike, *, on_error: OnError = "raise") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read a COCO captions JSON.

    Returns ``(images DataFrame[image_id:int, file_name:str, width:int, height:int],
    captions DataFrame[image_id:int, id:int, caption:str])``. Image ids and caption ids are unique,
    every caption's ``image_id`` must be an image of the file, captions non-empty after stripping.
    Bad images are always fatal; bad captions may be skipped (``captions.attrs["skipped"]``).
    """
    rows = RowCollector(path, on_error)
    p = require_file(rows.path)
    text = read_text(p)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise DatasetFormatError(p, e.lineno, f"invalid JSON ({e.msg})") from None
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("images"), list)
        or not isinstance(data.get("annotations"), list)
    ):
        raise DatasetFormatError(p, 1, "expected a JSON object with lists 'images' and 'annotations'")

    img_line = _Locator(text, "images")
    cap_line = _Locator(text, "annotations")
    img_cols: dict[str, list] = {"image_id": [], "file_name": [], "width": [], "height": []}
    seen_img: set[int] = set()
    for i, img in enumerate(data["images"]):
        iid = img.get("id") if isinstance(img, dict) else None
        if not isinstance(img, dict) or not _is_int(iid):
            raise DatasetFormatError(p, None, f"images[{i}] lacks an integer 'id'")
        name = img.get("file_name")
        if not isinstance(name, str):
            raise DatasetFormatError(p, img_line(iid), f"image {iid} lacks a 'file_name'")
        try:
            name = safe_member_path(name, path=p, line=None)
        except DatasetFormatError as e:
            raise DatasetFormatError(p, img_line(iid), f"image {iid}: {e.problem}") from None
        w, h = img.get("width"), img.get("height")
        if not (_is_int(w) and _is_int(h) and w > 0 and h > 0):
            raise DatasetFormatError(p, img_line(iid), f"image {iid} has bad size {w!r}x{h!r}")
        if iid in seen_img:
            raise DatasetFormatError(
                p, img_line(iid, 2), f"duplicate image id {iid} (images[{i}]; first on line {img_line(iid)})"
            )
        seen_img.add(iid)
        for col, v in zip(img_cols, (iid, name, w, h)):
            img_cols[col].append(v)

    cap_cols: dict[str, list] = {"image_id": [], "id": [], "caption": []}
    seen_cap: set[int] = set()
    for i, ann in enumerate(data["annotations"]):
        aid = ann.get("id") if isinstance(ann, dict) else None
        try:
            if not isinstance(ann, dict) or not _is_int(aid):
                raise rows.error(None, f"annotations[{i}] lacks an integer 'id'")
            iid = ann.get("image_id")
            if not _is_int(iid) or iid not in seen_img:
                raise rows.error(cap_line(aid), f"caption {aid} refers to unknown image_id {iid!r}")
            cap = ann.get("caption")
            caption = " ".join(cap.split()) if isinstance(cap, str) else ""
            if not caption:
                raise rows.error(cap_line(aid), f"caption {aid} is empty or not a string")
            if aid in seen_cap:
                raise rows.error(
                    cap_line(aid, 2), f"duplicate caption id {aid} (annotations[{i}]; first on line {cap_line(aid)})"
                )
            seen_cap.add(aid)
        except DatasetFormatError as e:
            rows.reject(e)
            continue
        for col, v in zip(cap_cols, (iid, aid, caption)):
            cap_cols[col].append(v)

    images = frame(
        {
            "image_id": (img_cols["image_id"], "int64"),
            "file_name": (img_cols["file_name"], "object"),
            "width": (img_cols["width"], "int64"),
            "height": (img_cols["height"], "int64"),
        }
    )
    captions = frame(
        {
            "image_id": (cap_cols["image_id"], "int64"),
            "id": (cap_cols["id"], "int64"),
            "caption": (cap_cols["caption"], "object"),
        }
    )
    images.attrs.update(source=str(p), skipped=[])
    rows.finish(captions)
    logger.info("%s: %d images, %d captions", p, len(images), len(captions))
    return images, captions


__all__ = ["read_captions"]
