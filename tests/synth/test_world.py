import json
import zipfile
from pathlib import Path

from vipant.synth import WorldConfig, metadata_files, plan_world

TOP_LEVEL = {
    "audioset/balanced_train_segments.csv",
    "audioset/unbalanced_train_segments.csv",
    "audioset/eval_segments.csv",
    "audioset/class_labels_indices.csv",
    "audioset/ontology.json",
    "audiocaps/train.csv",
    "audiocaps/val.csv",
    "audiocaps/test.csv",
    "clotho/clotho_captions_development.csv",
    "clotho/clotho_captions_evaluation.csv",
    "clotho/clotho_audio_development.zip",
    "clotho/clotho_audio_evaluation.zip",
    "esc50/ESC-50-master.zip",
    "us8k/UrbanSound8K.tar.gz",
    "tut17/TUT-acoustic-scenes-2017-development.zip",
    "coco/annotations_trainval2017.zip",
    "coco/train2017.zip",
    "coco/val2017.zip",
    "vt_corpus/train.csv",
    "vt_corpus/val.csv",
    "vt_corpus/style.json",
    "truth/sources.json",
    "truth/clips.jsonl",
    "world.json",
}


def test_layout_is_exact(tiny_world: Path, truth):
    files = {p.relative_to(tiny_world).as_posix() for p in tiny_world.rglob("*") if p.is_file()}
    videos = {f for f in files if f.startswith("web/videos/")}
    images = {f for f in files if f.startswith("vt_corpus/images/")}
    assert files - videos - images == TOP_LEVEL
    assert videos == {f"web/videos/{c['ytid']}.mp4" for c in truth if c["defect"] != "missing"}
    assert not any(Path(f).name.startswith(".") for f in files)  # no temporary file left behind
    assert json.loads((tiny_world / "world.json").read_text())["config"]["seed"] == 7


def test_written_metadata_equals_the_plan(tiny_world: Path, tiny_plan):
    for rel, text in metadata_files(tiny_plan).items():
        if "!" in rel:
            archive, member = rel.split("!")
            if archive.endswith(".zip"):
                with zipfile.ZipFile(tiny_world / archive) as zf:
                    assert zf.read(member).decode() == text, rel
        else:
            assert (tiny_world / rel).read_text() == text, rel


def test_same_seed_same_metadata_other_seed_differs(tiny_plan):
    again = metadata_files(plan_world(WorldConfig.tiny(seed=7)))
    first = metadata_files(tiny_plan)
    assert again == first
    other = metadata_files(plan_world(WorldConfig.tiny(seed=8)))
    assert other.keys() == first.keys()
    same_for_every_seed = ("class_labels", "sources.json", "style.json")  # the catalogue and the world's look
    assert all(other[k] != first[k] for k in first if not any(s in k for s in same_for_every_seed))


def test_sources_truth(tiny_world: Path):
    sources = json.loads((tiny_world / "truth/sources.json").read_text())
    assert len(sources) >= 28
    assert {"name", "mid", "shape", "rgb", "noun", "family"} <= set(sources[0])
