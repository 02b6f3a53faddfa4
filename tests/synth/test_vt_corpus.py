import pandas as pd
from PIL import Image


def test_vt_corpus_in_open_clip_csv_format(tiny_world, tiny_cfg):
    frames = {s: pd.read_csv(tiny_world / f"vt_corpus/{s}.csv", sep="\t") for s in ("train", "val")}
    for df in frames.values():
        assert list(df.columns) == ["filepath", "title"]
        assert df.title.str.len().gt(0).all()
    total = pd.concat(frames.values())
    assert len(total) == tiny_cfg.vt_pairs and total.filepath.is_unique
    assert 0 < len(frames["val"]) < len(frames["train"])
    for path in total.filepath[:5]:
        img = Image.open(tiny_world / "vt_corpus" / path)
        assert img.size == (tiny_cfg.vt_image_size, tiny_cfg.vt_image_size)
    assert len(list((tiny_world / "vt_corpus/images").glob("*.jpg"))) == tiny_cfg.vt_pairs
