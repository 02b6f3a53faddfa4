import copy
from pathlib import Path

import pytest
import yaml

from vipant.registry import (
    Registry,
    at_key,
    curation_students,
    nearest_from_epoch,
    parse_temporal_key,
    scaling_curations,
    student_key,
    temporal_at_key,
    temporal_key,
)
from vipant.tables import CURATION_TABLE2_ROWS, CURATION_TABLE3_ROWS, CURATION_TASKS

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def config():
    return yaml.safe_load((ROOT / "config.yaml").read_text())


@pytest.fixture(scope="module")
def registry(config):
    return Registry.from_preset(config["presets"]["synthetic"])


def test_temporal_keys_parse_back_and_other_keys_do_not():
    assert parse_temporal_key(temporal_key("nearest5", 12)) == ("nearest5", 12, False)
    assert parse_temporal_key(temporal_at_key("multiframe", 0)) == ("multiframe", 0, True)
    for other in ("vipant", "at_GC", "tm_random_s1_at_x", "tm_Random_s1", student_key("full", "DU", "sl")):
        assert parse_temporal_key(other) is None


def test_scaling_curations_double_from_min_to_max():
    assert scaling_curations(1, 4) == ["GC@2", "GC@4", "GC@8", "GC@16"]
    assert scaling_curations(3, 2) == []


def test_every_model_key_has_its_own_checkpoint(config):
    for name, preset in config["presets"].items():
        reg = Registry.from_preset(preset)
        keys = [*reg.va_specs, *(at_key(c) for c in reg.curations + reg.scaling_curations), *reg.checkpoints]
        paths = [reg.audio_model(k) for k in keys]
        assert len(set(paths)) == len(paths), name  # two keys writing one checkpoint would overwrite each other
        assert all(p.startswith(preset["work_dir"] + "/models/") and p.endswith("/model.pt") for p in paths)


def test_checkpoints_follow_the_key_kinds(registry):
    w = registry.work_dir
    assert registry.audio_model("vipant") == f"{w}/models/va/vipant/model.pt"
    assert registry.audio_model("at_GC@8") == f"{w}/models/at/GC@8/model.pt"
    assert registry.audio_model("teacher_sub") == registry.teachers["sub"]["model"]
    assert (
        registry.audio_model(student_key("sub", "ADS_esc50", "sl")) == f"{w}/models/student/sub/ADS_esc50/sl/model.pt"
    )
    assert registry.teachers["full"]["model"] == registry.audio_model(at_key("GC"))
    for key in registry.temporal_va:
        variant, seed, _ = parse_temporal_key(key)
        if key in registry.aliases:
            continue
        assert registry.audio_model(temporal_at_key(variant, seed)) == f"{w}/models/at_temporal/{key}/model.pt"
        assert registry.va_specs[key]["seed"] == seed


def test_a_follow_up_run_with_vipants_recipe_is_vipant_not_a_second_training(config):
    """Random Match seed 0 runs vip-AnT's exact recipe on the synthetic preset: one training, not two.
    Catches an alias between runs that differ (in seed, epochs, frame matching or the AT recipe)."""
    preset = copy.deepcopy(config["presets"]["synthetic"])
    reg = Registry.from_preset(preset)
    assert reg.aliases == {"tm_random_s0": "vipant", "tm_random_s0_at": "at_GC"}
    assert "tm_random_s0" not in reg.va_specs and "tm_random_s0" in reg.temporal_va
    assert reg.audio_model("tm_random_s0") == reg.audio_model("vipant")
    assert reg.audio_model("tm_random_s0_at") == reg.audio_model("at_GC")
    assert reg.canonical("tm_random_s1") == "tm_random_s1" and "tm_random_s1" in reg.va_specs
    preset["temporal"]["at_train"] = {"epochs": 5}  # the VA run is the same, its fine-tune is not
    assert Registry.from_preset(preset).aliases == {"tm_random_s0": "vipant"}
    preset["temporal"]["va_train"] = {"epochs": 31}
    assert Registry.from_preset(preset).aliases == {}
    preset["temporal"]["va_train"] = {}
    preset["va"]["models"]["vipant"]["match"] = "multiframe"
    assert Registry.from_preset(preset).aliases == {"tm_multiframe_s0": "vipant"}
    assert Registry.from_preset(config["presets"]["paper"]).aliases == {}  # follow-up A's own recipe


def test_the_curation_tables_read_exactly_the_students_the_workflow_trains():
    tasks = [t.removesuffix("_zs") for _, t in CURATION_TASKS]
    students = curation_students(tasks)
    for table, rows in (("curation_table2", CURATION_TABLE2_ROWS), ("curation_table3", CURATION_TABLE3_ROWS)):
        wanted = {template.format(task=t) for _, _, template in rows for t in tasks}
        trained = {student_key(*s) for s in students[table]}
        assert trained <= wanted, table  # a student no row shows is wasted training
        assert {k for k in wanted if k.startswith("student_")} == trained, table


def test_result_targets_are_the_demo_tables_then_every_follow_up(registry):
    assert registry.all_results[:2] == ["results/table3.csv", "results/table4.csv"]
    for target in (
        "results/temporal_table4.csv",
        "results/scaling.csv",
        "results/curation_table3.csv",
        "results/table7.csv",
        "results/figure10.png",
    ):
        assert target in registry.all_results
    assert [p for p in registry.all_results if "/export/" in p] == [
        f"{registry.work_dir}/export/at_{c}" for c in registry.curations
    ]
    assert len(set(registry.all_results)) == len(registry.all_results)


def test_scaling_pair_lists_read_the_gold_captions_pool(registry):
    for curation in registry.scaling_curations:
        assert registry.curation_pool[curation] == registry.curation_pool["GC"]


def test_nearest_match_runs_start_from_the_random_match_run_of_their_seed(registry):
    # seed 0's Random Match run is vip-AnT (an alias), which keeps the states
    donor = {s: registry.canonical(temporal_key("random", s)) for s in (0, 1, 2)}
    assert donor[0] == "vipant"
    assert registry.va_warm_start == {temporal_key(f"nearest{n}", s): donor[s] for n in (5, 10, 15) for s in (0, 1, 2)}
    assert registry.va_keep_epochs == {donor[s]: [5, 10, 15] for s in (0, 1, 2)}
    assert nearest_from_epoch("nearest@12") == 12
    assert nearest_from_epoch("random") is None and nearest_from_epoch("nearest@") is None


def test_no_warm_start_without_a_random_run_or_from_an_epoch_the_run_never_reaches(config):
    preset = copy.deepcopy(config["presets"]["synthetic"])
    preset["temporal"]["variants"] = [{"name": "nearest5", "match": "nearest@5"}]
    assert Registry.from_preset(preset).va_warm_start == {}
    preset["temporal"]["variants"] = [{"name": "random", "match": "random"}, {"name": "late", "match": "nearest@30"}]
    preset["temporal"]["va_train"] = {"epochs": 30}
    reg = Registry.from_preset(preset)
    assert reg.va_warm_start == {} and reg.va_keep_epochs == {}
    preset["temporal"]["va_train"] = {"epochs": 31}  # the temporal runs' own epoch count decides
    assert Registry.from_preset(preset).va_keep_epochs == {temporal_key("random", s): [30] for s in (0, 1, 2)}
