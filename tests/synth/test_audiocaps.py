import pandas as pd

from vipant.synth.sources import source


def test_audiocaps_csvs(tiny_world, truth, tiny_cfg):
    by_id = {c["ytid"]: c for c in truth}
    ids = []
    for split, n_clips, per_clip in (
        ("train", tiny_cfg.audiocaps_train, 1),
        ("val", tiny_cfg.audiocaps_val, 5),
        ("test", tiny_cfg.audiocaps_test, 5),
    ):
        df = pd.read_csv(tiny_world / f"audiocaps/{split}.csv", dtype={"youtube_id": str})
        assert list(df.columns) == ["audiocap_id", "youtube_id", "start_time", "caption"]
        assert df.start_time.dtype.kind == "i"
        assert df.youtube_id.nunique() == n_clips and len(df) == n_clips * per_clip
        assert (df.groupby("youtube_id").caption.nunique() == per_clip).all()
        for row in df.itertuples():
            clip = by_id[row.youtube_id]
            assert clip["start"] == row.start_time and clip["audiocaps"] == split
            assert (clip["split"] == "eval") == (split != "train")
            nouns = [
                w
                for e in clip["events"]
                for p in source(e["source"]).clauses + source(e["source"]).gerunds
                for w in p.lower().split()[1:2]
            ]
            assert any(n in row.caption.lower() for n in nouns), row.caption
        ids += df.audiocap_id.tolist()
    assert len(set(ids)) == len(ids)
