# Shared helpers: the active preset, paths, and how config values reach each stage's command line.
import json
import os
from pathlib import Path

from snakemake.exceptions import WorkflowError

from vipant.registry import Registry, student_key

PRESET = config["preset"]
if PRESET not in config["presets"]:
    raise ValueError(f"config.yaml: preset {PRESET!r} is not one of {sorted(config['presets'])}")
P = config["presets"][PRESET]
W = P["work_dir"]
WORLD = f"{W}/world"
SYNTHETIC = "world" in P
# file:// URL of the generated world; the synthetic preset's dataset URLs are relative to it.
WORLD_URL = Path(WORLD).resolve().as_uri()
DATASETS = sorted(P["datasets"])
SHARDS = [f"{i:03d}" for i in range(P["download"]["shards"])]
LOCAL_COLLECTIONS = ["clotho_development", "clotho_evaluation", "esc50", "us8k", "tut17"]
LOCAL_SHARDS = [f"{i:03d}" for i in range(P["fbank"]["local_shards"])]

# results table (rule `table`) -> its category in the Snakemake report
TABLE_CATEGORIES = {
    **dict.fromkeys(["table3", "table4", "table7", "table8", "table_vat"], "vip-AnT"),
    **dict.fromkeys(["temporal_table3", "temporal_table4"], "Temporal agreement"),
    **dict.fromkeys(["curation_table2", "curation_table3"], "Unsupervised curation (follow-up B)"),
}


wildcard_constraints:
    shard=r"\d{3}",
    dataset="|".join(DATASETS),
    collection="|".join(LOCAL_COLLECTIONS),
    name="|".join(["audioset"] + LOCAL_COLLECTIONS),
    pool=r"[a-z0-9_]+",
    curation=r"[A-Z]+(@\d+)?",
    table="|".join(TABLE_CATEGORIES),
    va=r"[a-z0-9_@]+",


# Never run two GPU jobs on one GPU: the `gpu` resource is capped at the number of visible devices. On a
# CPU-only machine it is the number of cores instead, so 1-thread training jobs run side by side (two
# 1-thread jobs beat one 2-thread job). `--resources gpu=N` on the command line or in a profile wins.
def _visible_gpus():
    try:
        import torch

        count = torch.cuda.device_count()
    except Exception:
        count = 0
    if count > 0:
        return count
    try:
        return max(int(workflow.cores or 1), 1)
    except WorkflowError:  # `snakemake --report` and other commands that run no job set no cores
        return 1


if "gpu" not in workflow.global_resources:
    workflow.register_resource("gpu", _visible_gpus())


def stage_launch(threads, gpus):
    """The command that starts a training stage. One GPU: one process. `gpu` > 1 (set by a profile's
    set-resources): `torchrun --standalone` with one rank per GPU of this node (DDP, negatives gathered across
    ranks, rank 0 logs and writes), the job's threads split among the ranks (recipe in docs/cluster.md)."""
    gpus = int(gpus)
    if gpus <= 1:
        return f"OMP_NUM_THREADS={threads} vipant"
    return (
        f"OMP_NUM_THREADS={max(int(threads) // gpus, 1)} python -m torch.distributed.run --standalone"
        f" --nproc_per_node={gpus} -m vipant.cli"
    )


def as_json(obj):
    """A config value for a command line (quote it in the shell directive with {params.x:q})."""
    return json.dumps(obj, sort_keys=True)


def dataset_spec(wildcards):
    return as_json(P["datasets"][wildcards.dataset])


def world_input(wildcards):
    """The fetch stage waits for the generated world in the synthetic preset; real data needs none."""
    return [f"{WORLD}/world.json"] if SYNTHETIC else []


def fetch_records():
    return [f"{W}/raw/{d}.json" for d in DATASETS]


def local_fbank_shards(collection):
    return expand(f"{W}/fbank/{collection}/shard-{{shard}}.csv", shard=LOCAL_SHARDS)


# ---- training, curation and evaluation (docs/design.md, Models to Outputs) -------------------------------------------------
VT_TRAINED = "model" in P["vt"]  # synthetic: a small CLIP trained by pretrain_vt; paper: OpenAI CLIP
# shuffles behind each evaluation score's p-value against chance (evaluate --permutations); 0: none
EVAL_PERMUTATIONS = P["eval"].get("permutations", 0)
VT_CKPT = f"{W}/models/vt/model.pt"
VT_WEIGHTS = f"{W}/models/vt/clip_weights.pt"  # paper: the CLIP weights every job loads (rule vt_weights)
VA_MODELS = sorted(P["va"]["models"])
# Every model key, its checkpoint and every result target, derived once from the preset (vipant.registry);
# rule files read these names and never add to them.
REGISTRY = Registry.from_preset(P)
# name -> {init, match, seed[, train overrides]} of every VA model pretrain_va can build (follow-up A's
# variants × seeds included)
VA_VARIANTS = REGISTRY.va_specs
CURATIONS = REGISTRY.curations
AT_MODELS = [f"at_{c}" for c in CURATIONS]
TEXT_POOLS = [
    "ac",
    "ac_prompted",
    "vc",
    "vc_prompted",
    "fc",
    "fc_prompted",
    "audiocaps_train",
    "audioset_labels",
    "audiocaps_val",
    "audiocaps_test",
    "clotho_evaluation",
    *[f"labels_{t}_{p}" for t in ("audioset", "esc50", "us8k", "tut17") for p in ("prompt", "noprompt")],
]
# follow-up B: the "this is a sound of <label>" prompts that DS curation compares captions with
TEXT_POOLS += [f"labels_{t}_thisis" for t in ("esc50", "us8k", "tut17")]
# the raw pool each curation's text_row points into (fine-tuning reads its embeddings), GC@N included
CURATION_POOL = REGISTRY.curation_pool
TABLE3_MODELS = ["va_rand", "vipant", *AT_MODELS]
ZS_TASKS = ["esc50_zs", "us8k_zs", "audioset_zs"]
RETRIEVAL_TASKS = ["audiocaps_retrieval", "clotho_retrieval"]


def vt_spec_json():
    # paper: every job loads the local copy that vt_weights made, never the Hub (offline compute nodes)
    # ("source": where the copy came from, kept in the specs that exported checkpoints carry)
    spec = (
        {"checkpoint": VT_CKPT}
        if VT_TRAINED
        else {"name": P["vt"]["name"], "pretrained": VT_WEIGHTS, "source": P["vt"]["pretrained"]}
    )
    return as_json(spec)


def vt_input(wildcards):
    return [VT_CKPT] if VT_TRAINED else [VT_WEIGHTS]


def track(rule_name, **params):
    """What a job tells MLflow about itself: rule, wildcards, preset and the config that affects it."""

    def fn(wildcards):
        return as_json({"rule": rule_name, "wildcards": dict(wildcards.items()), "preset": PRESET, "params": params})

    return fn


def audio_model(name):
    """Checkpoint of an audio encoder by model key (vipant.registry lists the keys)."""
    return REGISTRY.audio_model(name)


def eval_inputs(tasks, oracle=False):
    """Named inputs of an evaluation job (the evaluate command looks them up by these names)."""
    named = {"fbank_stats": f"{W}/fbank/stats.json"}
    for task in tasks:
        if task == "audioset_a2i":
            named.update(
                frames=f"{W}/embed/frames.csv",
                clips_audioset_a2i=f"{W}/meta/audioset_eval.csv",
                fbank_audioset=f"{W}/fbank/audioset/index.csv",
            )
        elif task in RETRIEVAL_TASKS:
            pool = "audiocaps_test" if task == "audiocaps_retrieval" else "clotho_evaluation"
            named[f"captions_{task}"] = f"{W}/embed/text/{pool}.csv"
            named[f"fbank_{'audioset' if pool == 'audiocaps_test' else 'clotho_evaluation'}"] = (
                f"{W}/fbank/{'audioset' if pool == 'audiocaps_test' else 'clotho_evaluation'}/index.csv"
            )
        else:
            name = task.removesuffix("_zs")
            named[f"class_prompt_{task}"] = f"{W}/embed/text/labels_{name}_prompt.csv"
            named[f"class_noprompt_{task}"] = f"{W}/embed/text/labels_{name}_noprompt.csv"
            if task == "audioset_zs":
                named["labels_audioset_zs"] = f"{W}/meta/youtube_clips.csv"
                named["clips_audioset_zs"] = f"{W}/meta/audioset_eval.csv"
                named["class_mids"] = f"{W}/meta/text/audioset_labels.csv"
                named["fbank_audioset"] = f"{W}/fbank/audioset/index.csv"
            else:
                named[f"labels_{task}"] = f"{W}/meta/audio_{name}.csv"
                named[f"fbank_{name}"] = f"{W}/fbank/{name}/index.csv"
    if oracle:
        named = {k: v for k, v in named.items() if k.startswith("captions_")}
        named["frames"] = f"{W}/embed/frames.csv"
    return named


def va_train_params(wildcards):
    """pretrain-va's --train-json: the recipe, and for follow-up A the kept epochs (Random Match) or the run a
    Nearest Match run starts from (outside the run's identity; the shell command stays the same for all)."""
    spec = VA_VARIANTS[wildcards.va]
    params = {**P["va"]["train"], **spec.get("train", {}), "seed": spec.get("seed", 0)}
    if wildcards.va in REGISTRY.va_keep_epochs:
        params["keep_epochs"] = REGISTRY.va_keep_epochs[wildcards.va]
    if wildcards.va in REGISTRY.va_warm_start:
        params["warm_start_dir"] = os.path.dirname(audio_model(REGISTRY.va_warm_start[wildcards.va]))
    return params


def va_warm_start_input(wildcards):
    """Follow-up A's Nearest Match at n waits for the Random Match run (same seed) whose state at epoch n it
    starts from (vipant.train.pretrain_va.random_match_warm_start)."""
    donor = REGISTRY.va_warm_start.get(wildcards.va)
    return [audio_model(donor)] if donor else []


def curate_inputs(wildcards):
    name = wildcards.curation
    pool = CURATION_POOL[name]
    named = {"raw_pool": f"{W}/meta/text/{pool}.csv"}
    if name in ("AC", "FC", "VC"):
        named.update(
            prompted=f"{W}/embed/text/{pool}_prompted.csv",
            frames=f"{W}/embed/frames.csv",
            train=f"{W}/meta/va_train.csv",
        )
    else:
        named.update(audiocaps=f"{W}/raw/audiocaps.json", clips=f"{W}/meta/youtube_clips.csv")
    if name.startswith("GC@"):  # few-shot scaling: N gold pairs drawn among the clips with features
        named["fbank"] = f"{W}/fbank/audioset/index.csv"
    return named


def curate_args(wildcards, input):
    if wildcards.curation in ("AC", "FC", "VC"):
        return f"--prompted {input.prompted} --frames {input.frames} --train-clips {input.train}"
    audiocaps_train = os.path.join(input.audiocaps.removesuffix(".json"), "train.csv")
    if wildcards.curation.startswith("GC@"):
        return f"--audiocaps-train {audiocaps_train} --fbank-index {input.fbank} --seed {P['scaling']['seed']}"
    return f"--audiocaps-train {audiocaps_train} --youtube-clips {input.clips}"


# every model is evaluated on every task; TUT17 scene classification and audio-image retrieval are read
# by the follow-up papers' tables
EVAL_TASKS = RETRIEVAL_TASKS + ZS_TASKS + ["tut17_zs", "audioset_a2i"]

# `snakemake all_results` builds every table and figure (and every AT model's export folder).
ALL_RESULTS = REGISTRY.all_results


def evaluate_inputs(wildcards):
    return {**eval_inputs(EVAL_TASKS), "model": audio_model(wildcards.model)}


def evaluate_named(wildcards, input):
    return as_json({k: v for k, v in input.items() if k != "model"})


def clotho_10s_inputs(wildcards):
    """vip-AnT Table 8's 10 s Clotho task (scaling.smk): Clotho evaluation captions and FBANK, under the task
    name the evaluate command looks up, and the model's checkpoint."""
    named = eval_inputs(["clotho_retrieval"])
    named["captions_clotho_10s_retrieval"] = named.pop("captions_clotho_retrieval")
    return {**named, "model": audio_model(wildcards.model)}


# ---- follow-up A (temporal.smk): one VA model per frame-matching variant × seed, each fine-tuned on GC ----
TEMPORAL = P.get("temporal")
TEMPORAL_VA = REGISTRY.temporal_va


def temporal_at_train(wildcards):
    """AT recipe for the gold-caption fine-tune, seeded like the VA model it starts from."""
    return {**P["at"]["train"], **TEMPORAL.get("at_train", {}), "seed": VA_VARIANTS[wildcards.tva]["seed"]}


# ---- results/RESULTS.md (summary.smk): the tables of the run's scope (config summary_scope) ----
SUMMARY_SCOPES = {
    "demo": ["results/coverage.csv", "results/table3.csv", "results/table4.csv"],
    "all": ["results/coverage.csv"] + [t for t in ALL_RESULTS if t.startswith("results/")],
}


def summary_inputs(wildcards):
    paths = SUMMARY_SCOPES[config.get("summary_scope", "all")]
    named = {
        "tables": [p for p in paths if p.endswith(".csv")],
        "figures": [p for p in paths if p.endswith(".png")],
    }
    if "results/scaling.csv" in paths:
        named["scaling"] = "results/scaling.json"
    if "results/figure10.png" in paths:
        named["tables"].append("results/figure10.csv")
    # the scores behind the tables: the page says whether this commit computed them
    named["metrics"] = sorted(
        {m for t in named["tables"] if Path(t).stem in TABLE_CATEGORIES for m in table_metrics(Path(t).stem)}
    )
    return named


# ---- results tables (tables.smk) ------------------------------------------------------------------------
def table_category(wildcards):
    return TABLE_CATEGORIES[wildcards.table]


def table_inputs(wildcards):
    return table_metrics(wildcards.table)


def table_cells(name):
    """The (model key, task) cells of the results table ``name`` (curation tables: table_metrics)."""
    return {
        "table3": [(m, t) for m in TABLE3_MODELS for t in RETRIEVAL_TASKS]
        + [("oracle_av_clip", "audiocaps_retrieval")],
        "table4": [(m, t) for m in TABLE3_MODELS for t in ZS_TASKS],
        "table8": [(m, t) for m in TABLE3_MODELS for t in ("clotho_10s_retrieval", "clotho_retrieval")],
        "table7": [(m, t) for m in PROBE_MODELS for t in PROBE_TASKS],
        "table_vat": [
            (m, t)
            for m in [P["at"]["init"], *(f"{k}_{c}" for c in VAT_CURATIONS for k in ("at", "vat"))]
            for t in ("esc50_zs", "audiocaps_retrieval")
        ],
        "temporal_table3": [(m, "audioset_a2i") for m in TEMPORAL_VA],
        "temporal_table4": [(f"{m}_at", "audiocaps_retrieval") for m in TEMPORAL_VA],
    }[name]


def table_metrics(name):
    """The metrics.json files the results table ``name`` is built from."""
    if name.startswith("curation_table"):
        return curation_table_inputs(name)
    # a follow-up A run that is a main model (REGISTRY.aliases) reads that model's scores
    return [f"{W}/eval/{REGISTRY.canonical(m)}/{t}/metrics.json" for m, t in table_cells(name)]


def table_aliases(wildcards):
    """`vipant table --alias` arguments: the table's model keys whose scores are another model's."""
    if wildcards.table.startswith("curation_table"):
        return ""
    keys = dict.fromkeys(m for m, _ in table_cells(wildcards.table) if m in REGISTRY.aliases)
    return " ".join(f"--alias {k}={REGISTRY.canonical(k)}" for k in keys)
