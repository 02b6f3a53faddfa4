"""Every name a run uses, derived once from its preset: model keys, their checkpoints, and result targets.

A model key names an audio encoder everywhere: in ``eval/<key>/<task>/metrics.json``, in the tables' rows
and in MLflow. The workflow's rule files read one :class:`Registry` built in ``workflow/rules/common.smk``
and never add to it, so the order in which they are included does not matter; ``vipant.tables`` builds its
rows with the same key functions, so a renamed key cannot leave a table looking for a file no job writes.

Keys:

- VA models: the names under ``va.models`` (``vipant``, ``va_rand``) and follow-up A's
  ``tm_<variant>_s<seed>`` (one per frame-matching variant × seed);
- AT fine-tunes: ``at_<curation>`` (``at_GC``, ``at_GC@8``, ...) and follow-up A's ``tm_<variant>_s<seed>_at``;
- follow-up B: ``teacher_sub`` and ``student_<teacher>_<set>_<hard|sl>``;
- appendices: ``vat_<curation>`` (appendix E), ``init_clip`` / ``init_random`` (appendix C, untrained g_A).

A follow-up A run whose recipe is exactly a ``va.models`` entry's (same init, frame matching, seed and
training recipe: the synthetic preset's Random Match seed 0 is vip-AnT itself) is an *alias* of that
model rather than a second training: its key resolves to that model's checkpoint and evaluations, and
so does its GC fine-tune to ``at_GC`` when the AT recipes agree too. Training it again would give the
same weights bit for bit (the training is deterministic) at the cost of a VA pretraining.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

#: The raw text pool each curation's rows point into (fine-tuning reads that pool's embeddings).
CURATION_POOL: Mapping[str, str] = {
    "AC": "ac",
    "FC": "fc",
    "VC": "vc",
    "RC": "audiocaps_train",
    "GC": "audiocaps_train",
    "GL": "audioset_labels",
}
#: Follow-up B's zero-shot target tasks (a DS/ADS set is built per task).
TEACHER_TASKS = ("esc50", "us8k", "tut17")
#: Follow-up A's Nearest Match starting at epoch n (``vipant.train.frame_matching`` reads it too).
NEAREST = re.compile(r"nearest@(\d+)")
#: The demo's tables; ``all_results`` adds the rest.
DEMO_RESULTS = ("results/table3.csv", "results/table4.csv")


def nearest_from_epoch(match: str) -> int | None:
    """n of a ``nearest@n`` frame matching (the epoch Nearest Match starts at), None for another matching."""
    m = NEAREST.fullmatch(match)
    return None if m is None else int(m.group(1))


def at_key(curation: str) -> str:
    """The AT fine-tune of the preset's VA model on a curation: ``at_GC``, ``at_GC@8``."""
    return f"at_{curation}"


def temporal_key(variant: str, seed: int) -> str:
    """Follow-up A: the VA model of one frame-matching variant and seed."""
    return f"tm_{variant}_s{seed}"


def temporal_at_key(variant: str, seed: int) -> str:
    """Follow-up A: that VA model's AT fine-tune on the gold captions."""
    return f"{temporal_key(variant, seed)}_at"


_TEMPORAL_KEY = re.compile(r"^tm_(?P<variant>[a-z0-9]+)_s(?P<seed>\d+)(?P<at>_at)?$")


def parse_temporal_key(key: str) -> tuple[str, int, bool] | None:
    """(variant, seed, fine-tuned) of a follow-up A key, ``None`` for any other key."""
    m = _TEMPORAL_KEY.match(key)
    return None if m is None else (m["variant"], int(m["seed"]), bool(m["at"]))


def student_key(teacher: str, tset: str, loss: str) -> str:
    """Follow-up B: the student of ``teacher`` (``full`` | ``sub``) on an improvement set (``own``, ``DU``,
    ``DS_<task>``, ``ADS_<task>``) with a ``hard`` or soft-label (``sl``) loss."""
    return f"student_{teacher}_{tset}_{loss}"


def scaling_curations(min_log2: int, max_log2: int) -> list[str]:
    """Few-shot scaling's pair lists: ``GC@2^k`` for k from ``min_log2`` to ``max_log2``."""
    return [f"GC@{2**k}" for k in range(min_log2, max_log2 + 1)]


def curation_students(tasks: list[str] | tuple[str, ...]) -> dict[str, list[tuple[str, str, str]]]:
    """The students of follow-up B's tables 2 and 3, as (teacher, set, loss), for the given target tasks."""
    return {
        "curation_table2": [("full", "own", "sl"), ("full", "DU", "hard"), ("full", "DU", "sl")]
        + [("full", f"{kind}_{t}", loss) for kind in ("DS", "ADS") for t in tasks for loss in ("hard", "sl")],
        "curation_table3": [("sub", "DU", "sl")] + [("sub", f"ADS_{t}", "sl") for t in tasks],
    }


def _va_recipe(preset: Mapping[str, Any], spec: Mapping[str, Any]) -> dict[str, Any]:
    """The training recipe ``pretrain_va`` runs for a VA spec (the workflow's ``va_train_params``, less the
    follow-up A bookkeeping that does not change the weights)."""
    return {**preset["va"]["train"], **spec.get("train", {}), "seed": spec.get("seed", 0)}


def _same_va_model(preset: Mapping[str, Any], spec: Mapping[str, Any]) -> str | None:
    """The ``va.models`` key trained exactly as ``spec`` would be, if any."""
    for key, other in preset["va"]["models"].items():
        if (
            other.get("init") == spec["init"]
            and other.get("match") == spec["match"]
            and _va_recipe(preset, other) == _va_recipe(preset, spec)
        ):
            return key
    return None


def _same_at_recipe(preset: Mapping[str, Any], seed: int) -> bool:
    """Whether follow-up A's GC fine-tune of a seed-``seed`` model runs ``at_GC``'s recipe."""
    at_train = preset["at"]["train"]
    temporal = {**at_train, **preset["temporal"].get("at_train", {}), "seed": seed}
    return temporal == {**at_train, "seed": at_train.get("seed", 0)}


@dataclass(frozen=True)
class Registry:
    """The names and paths of one preset's run (``work_dir`` is the preset's ``work_dir``)."""

    work_dir: str
    #: VA model key -> {init, match, seed[, train overrides]} of every model ``pretrain_va`` can build
    va_specs: dict[str, dict[str, Any]]
    #: model key -> checkpoint, for every key whose checkpoint is not ``models/va/<key>`` or ``models/at/<c>``
    checkpoints: dict[str, str]
    #: curation -> the raw text pool its pair list's rows point into
    curation_pool: dict[str, str]
    curations: list[str]
    temporal_va: list[str]
    #: follow-up A: Nearest Match key -> the Random Match key (same seed) whose state at epoch n it starts from
    va_warm_start: dict[str, str]
    #: Random Match key -> the epochs at whose start it keeps its state for those runs
    va_keep_epochs: dict[str, list[int]]
    #: follow-up A key -> the model key it is identical to (module docstring); not trained or evaluated twice
    aliases: dict[str, str]
    scaling_curations: list[str]
    #: follow-up B: teacher (full | sub) -> {model, pairs}
    teachers: dict[str, dict[str, str]]
    students: dict[str, list[tuple[str, str, str]]]
    at_exports: list[str]
    all_results: list[str] = field(default_factory=list)

    @classmethod
    def from_preset(cls, preset: Mapping[str, Any]) -> Registry:
        w = preset["work_dir"]
        va_specs = dict(preset["va"]["models"])
        checkpoints: dict[str, str] = {}
        curation_pool = dict(CURATION_POOL)
        curations = list(preset["at"]["curations"])
        results = list(DEMO_RESULTS)

        temporal_va = []
        warm_start: dict[str, str] = {}
        keep_epochs: dict[str, list[int]] = {}
        aliases: dict[str, str] = {}
        temporal = preset.get("temporal")
        if temporal:
            epochs = {**preset["va"]["train"], **temporal.get("va_train", {})}["epochs"]
            randoms = [v["name"] for v in temporal["variants"] if v["match"] == "random"]
            for variant in temporal["variants"]:
                for seed in temporal["seeds"]:
                    key = temporal_key(variant["name"], seed)
                    spec = {
                        "init": "clip",
                        "match": variant["match"],
                        "seed": seed,
                        "train": temporal.get("va_train", {}),
                    }
                    temporal_va.append(key)
                    same = _same_va_model(preset, spec)
                    if same is not None:
                        aliases[key] = same
                        if same == preset["at"]["init"] and "GC" in curations and _same_at_recipe(preset, seed):
                            aliases[temporal_at_key(variant["name"], seed)] = at_key("GC")
                    else:
                        va_specs[key] = spec
                    if temporal_at_key(variant["name"], seed) not in aliases:
                        checkpoints[temporal_at_key(variant["name"], seed)] = f"{w}/models/at_temporal/{key}/model.pt"
                    n = nearest_from_epoch(variant["match"])
                    if randoms and n is not None and 0 < n < epochs:  # its first n epochs are Random Match's
                        donor = temporal_key(randoms[0], seed)
                        donor = aliases.get(donor, donor)
                        warm_start[key] = donor
                        keep_epochs.setdefault(donor, []).append(n)
            keep_epochs = {k: sorted(set(v)) for k, v in keep_epochs.items()}
            results += ["results/temporal_table3.csv", "results/temporal_table4.csv"]

        at_exports = [f"{w}/export/{at_key(c)}" for c in curations]
        results += at_exports

        scaling = scaling_curations(preset["scaling"]["min_log2"], preset["scaling"]["max_log2"])
        curation_pool.update({c: CURATION_POOL["GC"] for c in scaling})
        results += ["results/scaling.csv", "results/figure7.png", "results/table8.csv", "results/figure5.png"]

        teachers = {
            "full": {"model": f"{w}/models/at/GC/model.pt", "pairs": f"{w}/curation/GC.csv"},
            "sub": {"model": f"{w}/models/teacher/sub/model.pt", "pairs": f"{w}/teacher/sub/pairs.csv"},
        }
        checkpoints["teacher_sub"] = teachers["sub"]["model"]
        students = curation_students(list(preset["teacher_curation"]["tasks"]))
        for table_students in students.values():
            for teacher, tset, loss in table_students:
                checkpoints[student_key(teacher, tset, loss)] = f"{w}/models/student/{teacher}/{tset}/{loss}/model.pt"
        results += ["results/curation_table2.csv", "results/curation_table3.csv"]

        for curation in preset["appendix"]["vat"]["curations"]:
            checkpoints[f"vat_{curation}"] = f"{w}/models/vat/{curation}/model.pt"
        for init in ("clip", "random"):  # Table 7's untrained "CLIP" and "random" initialisations
            checkpoints[f"init_{init}"] = f"{w}/models/init/{init}/model.pt"
        results += ["results/table7.csv", "results/table_vat.csv", "results/figure10.png"]

        return cls(
            work_dir=w,
            va_specs=va_specs,
            checkpoints=checkpoints,
            curation_pool=curation_pool,
            curations=curations,
            temporal_va=temporal_va,
            va_warm_start=warm_start,
            va_keep_epochs=keep_epochs,
            aliases=aliases,
            scaling_curations=scaling,
            teachers=teachers,
            students=students,
            at_exports=at_exports,
            all_results=results,
        )

    def canonical(self, key: str) -> str:
        """The key whose checkpoint and evaluations ``key`` uses: itself, or the model it is an alias of."""
        return self.aliases.get(key, key)

    def audio_model(self, key: str) -> str:
        """Checkpoint of the audio encoder with this model key."""
        key = self.canonical(key)
        if key in self.checkpoints:
            return self.checkpoints[key]
        if key.startswith("at_"):
            return f"{self.work_dir}/models/at/{key[3:]}/model.pt"
        return f"{self.work_dir}/models/va/{key}/model.pt"
