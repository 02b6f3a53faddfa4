import io
import zipfile

import pandas as pd
import soundfile as sf


def test_clotho_captions_and_audio(tiny_world, tiny_cfg):
    for split, n in (("development", tiny_cfg.clotho_development), ("evaluation", tiny_cfg.clotho_evaluation)):
        df = pd.read_csv(tiny_world / f"clotho/clotho_captions_{split}.csv")
        assert list(df.columns) == ["file_name"] + [f"caption_{i}" for i in range(1, 6)]
        assert len(df) == n and df.file_name.is_unique
        assert all(" " in name and name.endswith(".wav") for name in df.file_name)
        assert all(c.endswith(".") for c in df.caption_1)
        with zipfile.ZipFile(tiny_world / f"clotho/clotho_audio_{split}.zip") as zf:
            files = [m for m in zf.namelist() if not m.endswith("/")]
            assert sorted(files) == sorted(f"{split}/{name}" for name in df.file_name)
            for member in files:
                wave, sr = sf.read(io.BytesIO(zf.read(member)))
                assert sr == 44100 and wave.ndim == 1
                assert tiny_cfg.clotho_min_seconds - 0.01 <= len(wave) / sr <= tiny_cfg.clotho_max_seconds + 0.01
