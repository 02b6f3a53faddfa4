import io
import zipfile

import pandas as pd
import soundfile as sf

ROOT = "TUT-acoustic-scenes-2017-development"


def test_tut17_zip(tiny_world, tiny_cfg):
    with zipfile.ZipFile(tiny_world / "tut17/TUT-acoustic-scenes-2017-development.zip") as zf:
        meta = pd.read_csv(
            io.BytesIO(zf.read(f"{ROOT}/meta.txt")), sep="\t", header=None, names=["file", "scene", "recording"]
        )
        assert len(meta) == tiny_cfg.tut17_scenes * tiny_cfg.tut17_segments_per_scene
        assert meta.scene.nunique() == tiny_cfg.tut17_scenes
        assert meta.file.str.fullmatch(r"audio/[ab]\d{3}_\d+_\d+\.wav").all()
        for k in range(1, 5):
            train = pd.read_csv(
                io.BytesIO(zf.read(f"{ROOT}/evaluation_setup/fold{k}_train.txt")), sep="\t", header=None
            )
            evaluate = zf.read(f"{ROOT}/evaluation_setup/fold{k}_evaluate.txt").decode().splitlines()
            test = zf.read(f"{ROOT}/evaluation_setup/fold{k}_test.txt").decode().splitlines()
            assert [line.split("\t")[0] for line in evaluate] == test
            assert len(train) + len(test) == len(meta) and not set(train[0]) & set(test)
            test_recs = set(meta[meta.file.isin(test)].recording)
            assert not test_recs & set(meta[meta.file.isin(train[0])].recording)
        info = sf.info(io.BytesIO(zf.read(f"{ROOT}/{meta.file[0]}")))
        assert (info.samplerate, info.channels, info.duration) == (44100, 2, 10.0)
