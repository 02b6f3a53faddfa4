import io
import json
import zipfile

from PIL import Image


def test_coco_captions_and_images(tiny_world, tiny_cfg):
    with zipfile.ZipFile(tiny_world / "coco/annotations_trainval2017.zip") as zf:
        data = {s: json.loads(zf.read(f"annotations/captions_{s}2017.json")) for s in ("train", "val")}
    image_ids = set()
    for split, n in (("train", tiny_cfg.coco_train), ("val", tiny_cfg.coco_val)):
        d = data[split]
        assert set(d) == {"info", "licenses", "images", "annotations"}
        assert len(d["images"]) == n and len(d["annotations"]) == 5 * n
        assert {"id", "file_name", "width", "height", "license", "coco_url", "date_captured"} <= set(d["images"][0])
        assert set(d["annotations"][0]) == {"image_id", "id", "caption"}
        ids = {im["id"] for im in d["images"]}
        assert all(a["image_id"] in ids for a in d["annotations"])
        image_ids |= ids
        with zipfile.ZipFile(tiny_world / f"coco/{split}2017.zip") as zf:
            for im in d["images"][:3]:
                assert im["file_name"] == f"{im['id']:012d}.jpg"
                img = Image.open(io.BytesIO(zf.read(f"{split}2017/{im['file_name']}")))
                assert img.size == (im["width"], im["height"])
    assert len(image_ids) == tiny_cfg.coco_train + tiny_cfg.coco_val
