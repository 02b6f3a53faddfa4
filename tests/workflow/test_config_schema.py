"""workflow/schemas/config.schema.yaml: every preset of config.yaml and the tests' tiny overlay validate, a
misspelt key anywhere is refused with its name, and the blocks that mirror a dataclass list its fields.

Validation goes through ``snakemake.utils.validate`` on config.yaml merged with an overlay the way Snakemake
merges ``--configfile`` files, as the Snakefile's ``validate(config, ...)`` sees them.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from pathlib import Path

import pytest
import yaml
from snakemake.exceptions import WorkflowError
from snakemake.utils import update_config, validate

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_PATH = ROOT / "workflow" / "schemas" / "config.schema.yaml"
SCHEMA = yaml.safe_load(SCHEMA_PATH.read_text())
CONFIG = yaml.safe_load((ROOT / "config.yaml").read_text())
DEFS = SCHEMA["$defs"]
PRESET_BLOCKS = DEFS["preset"]["properties"]


def _merged(overlay: dict, preset: str = "synthetic") -> dict:
    # through JSON, not deepcopy: config.yaml's aliases (`layout: *layout`) load as one shared dict, which
    # deepcopy keeps shared, so a key put into the synthetic preset would show up in paper's too
    config = json.loads(json.dumps(CONFIG))
    update_config(config, json.loads(json.dumps(overlay)))
    config["preset"] = preset  # as `--config preset=...` does
    return config


def _validate(config: dict) -> None:
    validate(config, str(SCHEMA_PATH))


def _nested(path: str, leaf: dict) -> dict:
    for key in reversed(path.split(".") if path else []):
        leaf = {key: leaf}
    return leaf


def test_the_schema_is_a_valid_json_schema():
    """Catches a schema keyword or type misspelt in the schema itself (``type: integr``), which jsonschema
    would otherwise ignore or fail on only when a config reaches it."""
    from jsonschema import Draft202012Validator

    Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize("preset", sorted(CONFIG["presets"]))
def test_every_preset_of_config_yaml_validates(preset):
    """Catches a schema stricter than the presets (a key left out, a bound too tight) and a key in
    config.yaml that the schema does not know (misspelt or no longer read)."""
    _validate(_merged({}, preset))


def test_the_tiny_overlay_validates(tiny_overlay):
    """Catches the tests' tiny config drifting from the schema (a key the workflow tests set that the
    workflow would refuse, or one it would ignore)."""
    _validate(_merged(tiny_overlay))


# (where in the synthetic preset, misspelt key); "" is the preset itself, None the top level
MISSPELLINGS = [
    (None, "presset"),
    (None, "summary_scop"),
    ("<mlflow>", "tracking_url"),
    ("", "teacher_curaton"),
    ("world", "audioset_evl"),
    ("download", "retry"),
    ("datasets", "audiocap"),
    ("layout", "esc_50"),
    ("fbank", "stats_samples"),
    ("fbank.frames", "clotho_eval"),
    ("frames", "n_frame"),
    ("vt", "pretrain"),
    ("vt.model", "embed_dims"),
    ("vt.train", "grey_probability"),
    ("va", "max_vals"),
    ("va.train", "epocs"),
    ("va.models.vipant", "sed"),
    ("va.models.vipant.train", "epocs"),
    ("at", "curation"),
    ("at.train", "epocs"),
    ("fc", "seeds"),
    ("appendix.vat", "curation"),
    ("appendix.probe", "model"),
    ("appendix.probe.train", "epocs"),
    ("appendix.pivotability", "k"),
    ("temporal", "seed"),
    ("temporal.va_train", "epocs"),
    ("temporal.at_train", "epocs"),
    ("scaling", "max_log"),
    ("eval", "permutation"),
    ("eval.frames", "clotho_evalution"),
    ("table8", "short_frame"),
    ("teacher_curation", "subset_seeds"),
    ("teacher_curation.thresholds", "DSS"),
    ("teacher_curation.train", "max_step"),
]


@pytest.mark.parametrize(("where", "key"), MISSPELLINGS, ids=[f"{w}:{k}" for w, k in MISSPELLINGS])
def test_a_misspelt_key_is_refused_with_its_name(where, key):
    """Catches a block that lets unknown keys through (the misspelt setting would be ignored and its
    default used without a word), and an error that does not say which key is wrong or where."""
    if where is None:
        overlay, instance = {key: 3}, []
    elif where == "<mlflow>":
        overlay, instance = {"mlflow": {key: 3}}, ["mlflow"]
    else:
        overlay = {"presets": {"synthetic": _nested(where, {key: 3})}}
        instance = ["presets", "synthetic", *(where.split(".") if where else [])]
    with pytest.raises(WorkflowError) as err:
        _validate(_merged(overlay))
    message = str(err.value)
    assert f"'{key}' was unexpected" in message, message[:2000]
    assert f"On instance{''.join(f'[{p!r}]' for p in instance)}:" in message, message[:2000]


def test_summary_scope_takes_only_its_two_values():
    """Catches a scope the results_summary rule has no input list for (a KeyError deep in the DAG)."""
    for scope in ("all", "demo"):
        _validate(_merged({"summary_scope": scope}))
    with pytest.raises(WorkflowError, match="'everything' is not one of"):
        _validate(_merged({"summary_scope": "everything"}))


def test_every_block_lists_its_keys():
    """Catches a block added to the schema without ``additionalProperties`` (open by accident, so its
    misspelt keys pass); a block meant to be open says so with ``additionalProperties: true``."""
    open_blocks = []

    def walk(node, path):
        if isinstance(node, dict):
            if "properties" in node and "additionalProperties" not in node:
                open_blocks.append(path)
            for k, v in node.items():
                walk(v, f"{path}/{k}")
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, f"{path}[{i}]")

    walk(SCHEMA, "")
    assert not open_blocks


def _json_types(hint) -> set[str]:
    if typing.get_origin(hint) in (types.UnionType, typing.Union):
        return set().union(*(_json_types(a) for a in typing.get_args(hint)))
    if hint is type(None):
        return {"null"}
    if typing.get_origin(hint) in (tuple, list) or hint in (tuple, list):
        return {"array"}
    return {bool: {"boolean"}, int: {"integer"}, float: {"number"}, str: {"string"}}[hint]


def _dataclasses():
    from vipant.evaluate.linear_probe import ProbeConfig
    from vipant.synth.config import WorldConfig
    from vipant.train.loop import TrainConfig
    from vipant.train.pretrain_vt import VTTrainConfig

    return {
        "train_config": TrainConfig,
        "vt_train_config": VTTrainConfig,
        "probe_config": ProbeConfig,
        "world": WorldConfig,
    }


@pytest.mark.parametrize("definition", ["train_config", "vt_train_config", "probe_config", "world"])
def test_a_block_that_mirrors_a_dataclass_lists_its_fields_with_their_types(definition):
    """Catches a field added to the dataclass without the schema (the workflow would refuse the new
    setting), a field renamed or removed in one of the two, a typo in the schema's names, and a schema
    type that disagrees with the field's (``integer`` for a float refuses 0.5 warm-up epochs)."""
    cls = _dataclasses()[definition]
    props = DEFS[definition]["properties"]
    assert set(props) == {f.name for f in dataclasses.fields(cls)}
    hints = typing.get_type_hints(cls)
    for name, sub in props.items():
        declared = sub["type"] if isinstance(sub["type"], list) else [sub["type"]]
        assert set(declared) == _json_types(hints[name]), (name, declared, hints[name])


def test_each_train_block_uses_the_dataclass_definitions():
    """Catches a train block that spells its keys out itself instead of referring to the definition the
    dataclass test holds to account (it would drift unnoticed)."""
    trains = {
        "va.train": PRESET_BLOCKS["va"]["properties"]["train"],
        "va.models.*.train": PRESET_BLOCKS["va"]["properties"]["models"]["additionalProperties"]["properties"]["train"],
        "at.train": PRESET_BLOCKS["at"]["properties"]["train"],
        "temporal.va_train": PRESET_BLOCKS["temporal"]["properties"]["va_train"],
        "temporal.at_train": PRESET_BLOCKS["temporal"]["properties"]["at_train"],
        "teacher_curation.train": PRESET_BLOCKS["teacher_curation"]["properties"]["train"],
    }
    assert {k: v.get("$ref") for k, v in trains.items()} == dict.fromkeys(trains, "#/$defs/train_config")
    assert PRESET_BLOCKS["vt"]["properties"]["train"]["$ref"] == "#/$defs/vt_train_config"
    assert PRESET_BLOCKS["appendix"]["properties"]["probe"]["properties"]["train"]["$ref"] == "#/$defs/probe_config"
    assert PRESET_BLOCKS["world"]["$ref"] == "#/$defs/world"


def test_eval_frames_names_the_evaluation_tasks_and_their_collections():
    """Catches an evaluation task added to ``evaluate`` whose input length the config cannot set, and a
    collection or task name in the schema that the evaluate command never looks up."""
    from vipant.evaluate.tasks import TASKS

    frames = PRESET_BLOCKS["eval"]["properties"]["frames"]
    collections = {collection for collection, _, _ in TASKS.values()}
    assert set(frames["properties"]) == set(TASKS) | collections
    assert set(frames["required"]) == collections  # a task falls back on its collection, never the reverse


def test_the_download_block_sets_every_yt_dlp_setting():
    """Catches a yt-dlp setting added to YtdlpSettings that no config key sets (it would stay at its
    default in every run) and a download key renamed away from its setting."""
    from vipant.acquire.download import YtdlpSettings

    assert {f.name for f in dataclasses.fields(YtdlpSettings)} <= set(PRESET_BLOCKS["download"]["properties"])


def test_the_vt_model_names_are_open_clip_fields():
    """Catches a typo among the open_clip fields the schema lists (the presets would be checked against a
    name open_clip refuses when the VT model is built)."""
    from open_clip.model import CLIPTextCfg, CLIPVisionCfg

    model = PRESET_BLOCKS["vt"]["properties"]["model"]["properties"]
    for cfg, cls in (("vision_cfg", CLIPVisionCfg), ("text_cfg", CLIPTextCfg)):
        assert set(model[cfg]["properties"]) <= {f.name for f in dataclasses.fields(cls)}, cfg


def test_the_tiny_overlay_is_the_file_and_its_world_is_world_config_tiny(tiny_overlay):
    """Catches .test/config.yaml drifting from the code: its world no longer WorldConfig.tiny() (a field
    added, a size changed; compared as JSON, so 14 for 14.0 counts too), and tiny_config() changing
    the file's content on the way to the tests, so that running the file by hand is not what the tests run."""
    from vipant.synth.config import WorldConfig

    assert tiny_overlay == yaml.safe_load((ROOT / ".test" / "config.yaml").read_text())
    world = tiny_overlay["presets"]["synthetic"]["world"]
    assert json.dumps(world, sort_keys=True) == json.dumps(WorldConfig.tiny().to_dict(), sort_keys=True)
