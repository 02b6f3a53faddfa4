import io
import re
import zipfile

import pandas as pd
import soundfile as sf


def test_esc50_zip(tiny_world, tiny_cfg):
    with zipfile.ZipFile(tiny_world / "esc50/ESC-50-master.zip") as zf:
        meta = pd.read_csv(io.BytesIO(zf.read("ESC-50-master/meta/esc50.csv")))
        assert list(meta.columns) == ["filename", "fold", "target", "category", "esc10", "src_file", "take"]
        assert len(meta) == tiny_cfg.esc50_classes * tiny_cfg.esc50_clips_per_class
        assert set(meta.fold) == {1, 2, 3, 4, 5} and meta.esc10.dtype == bool
        assert meta.category.nunique() == tiny_cfg.esc50_classes == meta.target.nunique()
        assert "dog" in set(meta.category) and meta[meta.category == "dog"].esc10.all()
        for row in meta.itertuples():
            assert row.filename == f"{row.fold}-{row.src_file}-{row.take}-{row.target}.wav"
            assert re.fullmatch(r"[a-z_]+", row.category)
        wave, sr = sf.read(io.BytesIO(zf.read(f"ESC-50-master/audio/{meta.filename[0]}")))
        assert sr == 44100 and wave.ndim == 1 and len(wave) == 5 * 44100
        assert len([m for m in zf.namelist() if m.endswith(".wav")]) == len(meta)
