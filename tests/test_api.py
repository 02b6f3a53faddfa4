"""The Python API (:mod:`vipant.api`): the CLI's vectors, batched; bad inputs named; globals untouched."""

import json
import re
import shlex
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

import vipant
from vipant.api import AudioBatchError
from vipant.cli import main
from vipant.inference.embedder import embed_file

DOCS = Path(__file__).resolve().parents[1] / "docs" / "api.md"
README = DOCS.parents[1] / "README.md"


@pytest.fixture(scope="module")
def model(inference_layout):
    return vipant.load_model(inference_layout["at"], device="cpu")


def test_embed_audio_equals_the_cli_vectors(model, inference_layout, audio_zoo, tmp_path):
    """`vipant embed` and model.embed_audio give the same rows in the same order.
    Catches: rows out of input order after batching, a different normalisation or window policy."""
    files = [str(audio_zoo["good"][k]) for k in ("wav", "flac", "mp3", "ogg", "stereo48k", "short", "long")]
    out = tmp_path / "emb.npy"
    main(["embed", *files, "--out", str(out), "--checkpoint", str(inference_layout["at"]), "--device", "cpu", "-q"])
    cli = np.load(out)
    api = model.embed_audio(files, batch_size=4)
    assert api.shape == (7, 64) and api.dtype == np.float32
    np.testing.assert_allclose(api, cli, rtol=0, atol=2e-6)
    assert not np.array_equal(api[0], api[1])  # distinct files, distinct rows


def test_one_forward_pass_per_batch(model, audio_zoo):
    """Catches: a forward pass per file (the API's point is batching) or windows of a file split apart."""
    calls = []
    hook = model.inference.encoder.register_forward_hook(lambda m, inp, out: calls.append(inp[0].shape[0]))
    try:
        short = [str(audio_zoo["good"][k]) for k in ("wav", "flac", "mp3")]
        model.embed_audio(short, batch_size=32)
        assert calls == [3]
        calls.clear()
        model.embed_audio(short + [str(audio_zoo["good"]["long"])], batch_size=4)
        assert calls == [3, 7]  # the 70 s file's 7 windows stay together
    finally:
        hook.remove()


def test_bad_inputs_are_named_and_the_others_still_embedded(model, audio_zoo, caplog):
    """Catches: one bad file aborting the batch, a failure without the file's name, rows shifted by a failure."""
    good, bad = audio_zoo["good"], audio_zoo["bad"]
    inputs = [str(good["wav"]), str(bad["corrupt"]), str(good["mp3"]), str(bad["missing"]), np.zeros(10, np.float32)]
    with pytest.raises(AudioBatchError) as info:
        model.embed_audio(inputs, sample_rate=16000)
    err = info.value
    assert sorted(err.failures) == [1, 3, 4]
    assert f"{bad['missing']}: no such file" in str(err) and "array #4: too short" in str(err)
    assert str(err).startswith("3 of 5 inputs could not be embedded")
    for i, key in ((0, "wav"), (2, "mp3")):
        np.testing.assert_allclose(err.embeddings[i], embed_file(model.inference, good[key]).vector, rtol=0, atol=2e-6)
    assert np.isnan(err.embeddings[[1, 3, 4]]).all()
    logged = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert any(m.startswith(str(bad["corrupt"])) for m in logged)
    rows = model.embed_audio(inputs, sample_rate=16000, on_error="nan")
    np.testing.assert_array_equal(rows, err.embeddings)
    with pytest.raises(AudioBatchError, match="array #0: an array needs sample_rate="):
        model.embed_audio([np.zeros(16000, np.float32)])


def test_arrays_embed_as_the_files_they_were_read_from(model, audio_zoo):
    """A 16 kHz array read with soundfile gives the file's vector exactly; a 48 kHz stereo array goes through
    the same downmix and resampling. Catches: arrays skipping the resampler, [samples, channels] misread."""
    wav, sr = sf.read(audio_zoo["good"]["wav"], dtype="float32")
    file_vec = model.embed_audio(str(audio_zoo["good"]["wav"]))
    assert np.array_equal(model.embed_audio(wav, sample_rate=sr), file_vec)
    assert np.array_equal(model.embed_audio(torch.from_numpy(wav), sample_rate=sr), file_vec)
    stereo, sr = sf.read(audio_zoo["good"]["stereo48k"], dtype="float32")
    np.testing.assert_allclose(
        model.embed_audio(stereo.T, sample_rate=sr),
        model.embed_audio(str(audio_zoo["good"]["stereo48k"])),
        rtol=0,
        atol=1e-4,
    )
    with pytest.raises(AudioBatchError, match=r"pass \[channels, samples\]"):
        model.embed_audio([stereo], sample_rate=sr)


def test_text_similarity_and_classify_match_the_cli(model, inference_layout, audio_zoo, capsys):
    """Catches: classify without the "the sound of" prompt, scores not cosine, labels misaligned with scores."""
    labels = ["dog barking", "rain", "car horn"]
    files = [str(audio_zoo["good"]["wav"]), str(audio_zoo["good"]["ogg"])]
    main(
        [
            "classify",
            *files,
            "--labels",
            ",".join(labels),
            "--top-k",
            "0",
            "--json",
            "-q",
            "--checkpoint",
            str(inference_layout["at"]),
            "--device",
            "cpu",
        ]
    )
    cli = json.loads(capsys.readouterr().out)
    api = model.classify(files, labels)
    for entry, ranked in zip(cli, api):
        assert [t["label"] for t in entry["top"]] == [lab for lab, _ in ranked]
        np.testing.assert_allclose([t["score"] for t in entry["top"]], [s for _, s in ranked], rtol=0, atol=2e-6)
    text = model.embed_text(["the sound of " + lab for lab in labels])
    sims = model.similarity(model.embed_audio(files), text)
    assert sims.shape == (2, 3)
    assert dict(api[0])["rain"] == pytest.approx(float(sims[0, 1]), abs=2e-6)
    np.testing.assert_allclose(model.similarity(text * 3.0, text).diagonal(), 1.0, rtol=0, atol=1e-6)
    bare = model.classify(files[:1], labels, prompt=False)[0]
    assert dict(bare)["rain"] == pytest.approx(
        float(model.similarity(model.embed_audio(files[0]), model.embed_text("rain"))[0, 0]), abs=2e-6
    )


def _torch_globals():
    return (
        torch.are_deterministic_algorithms_enabled(),
        torch.backends.cuda.matmul.allow_tf32,
        torch.backends.cudnn.allow_tf32,
        torch.backends.cudnn.benchmark,
        torch.get_num_threads(),
    )


def test_loading_leaves_torch_settings_alone_unless_asked(inference_layout, tmp_path):
    """Catches: load_model switching on deterministic algorithms / turning TF32 off behind the caller's back."""
    before = _torch_globals()
    try:
        torch.use_deterministic_algorithms(False)
        before = _torch_globals()
        vipant.load_model(inference_layout["at"], device="cpu")
        assert _torch_globals() == before
        vipant.load_model(inference_layout["at"], device="cpu", deterministic=True)
        assert torch.are_deterministic_algorithms_enabled()
    finally:
        torch.use_deterministic_algorithms(before[0])


def _blocks(text: str, lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", text, flags=re.S)


@pytest.mark.parametrize("doc", [DOCS, README], ids=["docs_api", "readme"])
def test_docs_api_examples_run(doc, inference_layout, audio_zoo, tmp_path, monkeypatch):
    """Runs every ```bash `vipant ...` line and every ```python block of docs/api.md (and of the
    README's Python API section), in order, in a folder laid out as the docs assume. Catches:
    documentation that no longer matches the API or the CLI."""
    shutil.copytree(inference_layout["root"], tmp_path, dirs_exist_ok=True)
    for name, key in (("dog.wav", "wav"), ("rain.flac", "flac"), ("street.mp3", "mp3")):
        shutil.copy(audio_zoo["good"][key], tmp_path / name)
    monkeypatch.chdir(tmp_path)
    text = doc.read_text()
    if doc == README:  # the README's other blocks run the workflow; its API section is what is checked here
        text = text[text.index("## Python API and shareable models") :]
        text = text[: text.index("\n## ", 1)]
    commands = [line for block in _blocks(text, "bash") for line in block.splitlines() if line.startswith("vipant ")]
    python = _blocks(text, "python")
    assert commands and python and (doc == README or len(python) >= 3)
    for line in commands:
        main(shlex.split(line)[1:])
    namespace: dict = {}
    for block in python:
        exec(compile(block, str(doc), "exec"), namespace)
    assert namespace["audio"].shape[1] == 64 and namespace["scores"].shape[0] == namespace["audio"].shape[0]
