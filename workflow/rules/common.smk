# Shared helpers: the active preset, paths, and how config values reach each stage's command line.
import json
import os
from pathlib import Path

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


wildcard_constraints:
    shard=r"\d{3}",
    dataset="|".join(DATASETS),
    collection="|".join(LOCAL_COLLECTIONS),
    name="|".join(["audioset"] + LOCAL_COLLECTIONS),


# Never run two GPU jobs on one GPU: the `gpu` resource is capped at the number of visible devices
# (at least 1, so CPU-only machines still run training jobs one at a time). `--resources gpu=N` on the
# command line or in a profile wins.
def _visible_gpus():
    try:
        import torch

        return max(torch.cuda.device_count(), 1)
    except Exception:
        return 1


if "gpu" not in workflow.global_resources:
    workflow.register_resource("gpu", _visible_gpus())


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
