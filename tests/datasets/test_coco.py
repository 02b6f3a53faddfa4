"""MSCOCO captions JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from vipant.datasets.coco import read_captions
from vipant.datasets.common import DatasetFormatError


def coco(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "info": {"description": "COCO 2017 Dataset", "version": "1.0", "year": 2017},
        "licenses": [{"url": "http://creativecommons.org/licenses/by-nc-sa/2.0/", "id": 1, "name": "BY-NC-SA"}],
        "images": [
            {
                "license": 4,
                "file_name": "000000397133.jpg",
                "coco_url": "http://images.cocodataset.org/val2017/000000397133.jpg",
                "height": 427,
                "width": 640,
                "date_captured": "2013-11-14 17:02:52",
                "id": 397133,
            },
            {
                "license": 1,
                "file_name": "000000037777.jpg",
                "coco_url": "",
                "height": 230,
                "width": 352,
                "date_captured": "2013-11-14 20:55:31",
                "id": 37777,
            },
        ],
        "annotations": [
            {"image_id": 397133, "id": 370509, "caption": "A man is in a kitchen making pizzas."},
            {
                "image_id": 397133,
                "id": 370584,
                "caption": "Man in apron standing on front of oven with pans and bakeware",
            },
            {
                "image_id": 37777,
                "id": 5555,
                "caption": " The dining table near the kitchen has a bowl of fruit on it. \n",
            },
        ],
    }
    data.update(changes)
    return data


VAL = "captions_val2017.json"


def test_parses_real_format(write_file) -> None:
    images, captions = read_captions(write_file(VAL, json.dumps(coco())))
    assert list(images.columns) == ["image_id", "file_name", "width", "height"]
    assert list(captions.columns) == ["image_id", "id", "caption"]
    assert images["image_id"].tolist() == [397133, 37777] and images["width"].dtype == "int64"
    assert captions["id"].dtype == "int64" and captions["image_id"].tolist() == [397133, 397133, 37777]
    assert captions["caption"].iloc[2] == "The dining table near the kitchen has a bowl of fruit on it."


def test_unknown_image_id(write_file) -> None:
    data = coco()
    data["annotations"].append({"image_id": 999, "id": 42, "caption": "A ghost."})
    p = write_file(VAL, json.dumps(data))
    with pytest.raises(DatasetFormatError, match=r"captions_val2017.json: caption 42 refers to unknown image_id 999"):
        read_captions(p)
    p = write_file(VAL, json.dumps(data, indent=2))  # pretty-printed: the error also names the line
    with pytest.raises(DatasetFormatError) as info:
        read_captions(p)
    lines = p.read_text().splitlines()
    assert info.value.line is not None and '"id": 42' in lines[info.value.line - 1]
    images, captions = read_captions(p, on_error="skip")
    assert len(captions) == 3 and captions.attrs["skipped"][0].reason.startswith("caption 42")


def test_other_errors(tmp_path: Path, write_file) -> None:
    data = coco()
    data["annotations"].append({"image_id": 37777, "id": 5555, "caption": "Again."})
    with pytest.raises(DatasetFormatError, match="duplicate caption id 5555"):
        read_captions(write_file(VAL, json.dumps(data)))
    data = coco()
    data["annotations"].append({"image_id": 37777, "id": 6, "caption": " \n "})
    with pytest.raises(DatasetFormatError, match="caption 6 is empty"):
        read_captions(write_file(VAL, json.dumps(data)))
    data = coco()
    data["images"].append(dict(data["images"][0]))
    with pytest.raises(DatasetFormatError, match="duplicate image id 397133"):
        read_captions(write_file(VAL, json.dumps(data)))
    data = coco()
    data["images"][1]["file_name"] = "../evil.jpg"
    with pytest.raises(DatasetFormatError, match="image 37777: file name '../evil.jpg' escapes"):
        read_captions(write_file(VAL, json.dumps(data)))
    with pytest.raises(DatasetFormatError, match=":1: expected a JSON object"):
        read_captions(write_file(VAL, json.dumps({"images": []})))
    p = tmp_path / "broken.json"
    p.write_text('{"images": [\n  {"id": 1,\n')
    with pytest.raises(DatasetFormatError, match="broken.json:3: invalid JSON"):
        read_captions(p)
    with pytest.raises(FileNotFoundError, match="captions_train2017.json"):
        read_captions(tmp_path / "captions_train2017.json")
