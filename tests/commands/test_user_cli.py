"""``vipant classify / search / embed`` end to end on an input zoo with a tiny random checkpoint."""

import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from vipant.cli import main
from vipant.evaluate.zero_shot import class_prompts
from vipant.inference.embedder import embed_files, embed_texts
from vipant.inference.model import load_inference_model

LABELS = ["dog barking", "rain", "church_bells", "car horn", "siren"]


@pytest.fixture(scope="module")
def model(inference_layout):
    return load_inference_model(inference_layout["at"], device="cpu")


def _run(argv, capsys):
    """(exit status, stdout) of ``vipant <argv>`` in this process."""
    try:
        code = main(argv)
    except SystemExit as exit_:
        code = exit_.code
    return code, capsys.readouterr().out


def _errors(caplog):
    return [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]


def test_classify_json_matches_the_library_and_reports_bad_files(inference_layout, audio_zoo, model, capsys, caplog):
    good, bad = audio_zoo["good"], audio_zoo["bad"]
    files = [str(good["wav"]), str(bad["corrupt"]), str(good["long"]), str(bad["missing"]), str(good["stereo48k"])]
    code, out = _run(
        [
            "classify",
            *files,
            "--labels",
            ", ".join(LABELS) + ",rain",
            "--top-k",
            "4",
            "--json",
            "--checkpoint",
            str(inference_layout["at"]),
            "-q",
        ],
        capsys,
    )
    assert code == 1
    report = json.loads(out)
    assert [e["path"] for e in report] == files
    assert "not a readable audio file" in report[1]["error"] and report[3]["error"] == "no such file"
    assert _errors(caplog)[:2] == [f"{bad['corrupt']}: {report[1]['error']}", f"{bad['missing']}: no such file"]
    # the known answer: cosine against "the sound of <label>" exactly as the zero-shot evaluation prompts
    text = embed_texts(model, class_prompts(LABELS, prompt=True)).numpy()
    for entry, result in zip([report[0], report[2], report[4]], embed_files(model, [files[0], files[2], files[4]])):
        scores = text @ result.vector
        expected = [LABELS[i] for i in np.argsort(-scores)[:4]]
        assert [t["label"] for t in entry["top"]] == expected  # duplicate "rain" was dropped
        got = [t["score"] for t in entry["top"]]
        assert got == sorted(got, reverse=True)
        np.testing.assert_allclose(got, np.sort(scores)[::-1][:4], atol=1e-6)


def test_classify_prompt_flag_decides_the_texts(inference_layout, audio_zoo, capsys, monkeypatch):
    seen = []
    import vipant.inference.embedder as embedder

    real = embedder.embed_texts
    monkeypatch.setattr(embedder, "embed_texts", lambda m, texts: seen.append(list(texts)) or real(m, texts))
    for flag in ("--prompt", "--no-prompt"):
        code, out = _run(
            [
                "classify",
                str(audio_zoo["good"]["mp3"]),
                "--labels",
                "church_bells,dog",
                flag,
                "--checkpoint",
                str(inference_layout["at"]),
                "-q",
            ],
            capsys,
        )
        assert code == 0
        lines = out.splitlines()
        assert lines[0] == str(audio_zoo["good"]["mp3"]) and len(lines) == 3  # top 3 of 2 labels: both
    assert seen == [["the sound of church bells", "the sound of dog"], ["church bells", "dog"]]


def test_search_ranks_every_audio_file_under_the_folder(inference_layout, audio_zoo, model, capsys, caplog):
    d = audio_zoo["dir"]
    code, out = _run(
        [
            "search",
            "--query",
            "a car passes by",
            str(d),
            "--top-k",
            "0",
            "--json",
            "--checkpoint",
            str(inference_layout["at"]),
            "-q",
        ],
        capsys,
    )
    assert code == 1  # the zoo holds bad files with audio suffixes
    result = json.loads(out)
    good = sorted(str(p) for p in audio_zoo["good"].values())
    assert sorted(r["path"] for r in result["results"]) == good
    assert [r["rank"] for r in result["results"]] == list(range(1, len(good) + 1))
    scores = [r["score"] for r in result["results"]]
    assert scores == sorted(scores, reverse=True)
    failed = {f["path"] for f in result["failed"]}
    assert failed == {str(d / "corrupt.mp3"), str(d / "empty.wav"), str(d / "sub" / "fake.wav")}
    assert result["n_files"] == len(good) + 3 and len(_errors(caplog)) == 4  # 3 files + the summary line
    # scores are cosines with the query, as the library computes them
    query = embed_texts(model, ["a car passes by"]).numpy()[0]
    top = result["results"][0]
    assert abs(float(query @ embed_files(model, [top["path"]])[0].vector) - top["score"]) < 1e-6


def test_search_text_output_and_top_k(inference_layout, audio_zoo, capsys):
    code, out = _run(
        [
            "search",
            "--query",
            "rain",
            str(audio_zoo["good"]["wav"]),
            str(audio_zoo["good"]["ogg"]),
            str(audio_zoo["good"]["short"]),
            "--top-k",
            "2",
            "--checkpoint",
            str(inference_layout["at"]),
            "-q",
        ],
        capsys,
    )
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == 2 and lines[0].split()[0] == "1" and lines[1].split()[0] == "2"
    assert float(lines[0].split()[1]) >= float(lines[1].split()[1])


def test_default_checkpoint_comes_from_config_yaml(inference_layout, audio_zoo, capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(inference_layout["root"])
    code, out = _run(["classify", str(audio_zoo["good"]["wav"]), "--labels", "rain,siren", "-q"], capsys)
    assert code == 0 and out.startswith(str(audio_zoo["good"]["wav"]))
    monkeypatch.chdir(tmp_path)
    code, _ = _run(["classify", str(audio_zoo["good"]["wav"]), "--labels", "rain", "-q"], capsys)
    assert "no --checkpoint given" in str(code) and "pass --checkpoint" in str(code)


def test_embed_writes_array_and_sidecars(inference_layout, audio_zoo, tmp_path, capsys):
    good, bad = audio_zoo["good"], audio_zoo["bad"]
    files = [str(good["flac"]), str(bad["text"]), str(good["short"]), str(bad["empty"])]
    out = tmp_path / "emb.npy"
    code, _ = _run(["embed", *files, "--out", str(out), "--checkpoint", str(inference_layout["legacy"]), "-q"], capsys)
    assert code == 1
    array = np.load(out)
    assert array.dtype == np.float32 and array.shape == (2, 64)
    np.testing.assert_allclose(np.linalg.norm(array, axis=1), 1, atol=1e-5)
    rows = pd.read_csv(out.with_suffix(".csv"), keep_default_na=False)
    assert rows["path"].tolist() == files and rows["row"].tolist() == [0, -1, 1, -1]
    assert rows["status"].tolist() == ["ok", "failed", "ok", "failed"] and rows["reason"][3] == "empty file (0 bytes)"
    meta = json.loads(out.with_suffix(".json").read_text())
    assert meta["checkpoint"] == str(inference_layout["legacy"]) and meta["dim"] == 64 and meta["rows"] == 2
    assert meta["vt_source"].startswith("workflow layout")
    assert not list(tmp_path.glob(".*tmp*"))  # nothing half-written left behind
    with pytest.raises(SystemExit):
        main(["embed", files[0], "--out", str(tmp_path / "emb.txt")])


def test_embed_is_deterministic_across_processes(inference_layout, audio_zoo, tmp_path):
    """Two separate processes, same files: identical bytes; a bad file is one stderr line and exit 1."""
    files = [str(audio_zoo["good"][n]) for n in ("ogg", "long", "stereo48k")] + [str(audio_zoo["bad"]["corrupt"])]
    arrays = []
    for i in range(2):
        out = tmp_path / f"run{i}.npy"
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "vipant.cli",
                "embed",
                *files,
                "--out",
                str(out),
                "--checkpoint",
                str(inference_layout["at"]),
                "--device",
                "cpu",
                "--threads",
                "1",
            ],
            capture_output=True,
            text=True,
            timeout=300,
            env={**os.environ, "PYTHONHASHSEED": str(i)},
        )
        assert proc.returncode == 1, proc.stderr
        lines = [line for line in proc.stderr.splitlines() if "corrupt.mp3" in line]
        assert len(lines) == 1 and "ERROR" in lines[0] and "not a readable audio file" in lines[0]
        arrays.append(np.load(out))
    assert arrays[0].shape == (3, 64)
    assert arrays[0].tobytes() == arrays[1].tobytes()


@pytest.mark.parametrize("command", ["classify", "search", "embed"])
def test_help_has_examples_and_the_length_policy(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([command, "--help"])
    out = capsys.readouterr().out
    assert exit_.value.code == 0 and "examples:" in out and f"vipant {command} " in out and "zero-padded" in out


def test_building_the_parser_imports_no_torch():
    """`vipant --help` stays fast: the user commands import torch only when they run."""
    code = "import sys; from vipant.cli import build_parser; build_parser(); print('torch' in sys.modules)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.stdout.strip() == "False", proc.stderr
