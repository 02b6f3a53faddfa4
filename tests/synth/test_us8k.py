import io
import tarfile

import pandas as pd
import soundfile as sf


def test_us8k_tarball(tiny_world, tiny_cfg):
    with tarfile.open(tiny_world / "us8k/UrbanSound8K.tar.gz") as tf:
        meta = pd.read_csv(tf.extractfile("UrbanSound8K/metadata/UrbanSound8K.csv"))
        assert list(meta.columns) == ["slice_file_name", "fsID", "start", "end", "salience", "fold", "classID", "class"]
        assert len(meta) == 10 * tiny_cfg.us8k_clips_per_class and meta.classID.nunique() == 10
        assert set(meta.salience) <= {1, 2} and meta.fold.between(1, 10).all()
        assert (meta.groupby("fsID").fold.nunique() == 1).all()
        rates, channels = set(), set()
        for row in meta.itertuples():
            assert row.slice_file_name.startswith(f"{row.fsID}-{row.classID}-")
            info = sf.info(
                io.BytesIO(tf.extractfile(f"UrbanSound8K/audio/fold{row.fold}/{row.slice_file_name}").read())
            )
            assert info.duration <= 4.0 + 1e-6 and abs(info.duration - (row.end - row.start)) < 1e-3
            rates.add(info.samplerate)
            channels.add(info.channels)
        assert len(rates) >= 2
