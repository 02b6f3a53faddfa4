# AT fine-tuning of vip-AnT on each curated pair list (docs/design.md, Stages: finetune_at), text encoder frozen (cached).
rule finetune_at:
    input:
        init=audio_model(P["at"]["init"]),
        pairs=f"{W}/curation/{{curation}}.csv",
        text=lambda wc: f"{W}/embed/text/{CURATION_POOL[wc.curation]}.csv",
        val=f"{W}/embed/text/audiocaps_val.csv",
        fbank=f"{W}/fbank/audioset/index.csv",
        stats=f"{W}/fbank/stats.json",
    output:
        model=f"{W}/models/at/{{curation}}/model.pt",
        history=f"{W}/models/at/{{curation}}/history.json",
    log:
        f"{W}/logs/finetune_at/{{curation}}.log",
    benchmark:
        f"{W}/benchmarks/finetune_at/{{curation}}.tsv"
    priority: 1  # ahead of evaluations (priority 0), which then fill the cores after the last fine-tuning
    conda:
        "../../envs/train.yaml"
    threads: 1  # two 1-thread jobs beat one 2-thread job on CPU; profiles raise it for GPUs
    resources:
        gpu=1,
        mem_mb=16000,
        runtime=24 * 60,
    params:
        train=as_json(P["at"]["train"]),
        frames_length=P["va"]["frames_length"],
        out=lambda wc, output: os.path.dirname(output.model),
        track=track("finetune_at", train=P["at"]["train"], init=P["at"]["init"]),
        extra="",  # arguments a variant adds (use rule finetune_at as ... with: params: extra=...)
    shell:
        "OMP_NUM_THREADS={threads} vipant finetune-at --init-model {input.init} --pairs {input.pairs}"
        " --text {input.text} --val-text {input.val} --fbank-index {input.fbank} --fbank-stats {input.stats}"
        " --frames-length {params.frames_length} --train-json {params.train:q} --out-dir {params.out}"
        "{params.extra} --track-json {params.track:q} > {log} 2>&1"


# Every AT model as a shareable folder (vipant.export): weights, config and a model card with its scores.
AT_EXPORTS = REGISTRY.at_exports


rule export_at:
    input:
        model=f"{W}/models/at/{{curation}}/model.pt",
        history=f"{W}/models/at/{{curation}}/history.json",
        metrics=[f"{W}/eval/at_{{curation}}/{task}/metrics.json" for task in EVAL_TASKS],
    output:
        directory(f"{W}/export/at_{{curation}}"),
    log:
        f"{W}/logs/export_at/{{curation}}.log",
    benchmark:
        f"{W}/benchmarks/export_at/{{curation}}.tsv"
    conda:
        "../../envs/train.yaml"
    resources:
        mem_mb=4000,
        runtime=10,
    params:
        recipe=as_json(P["at"]["train"]),
        preset=PRESET,
    shell:
        "vipant export {input.model} {output} --metrics {input.metrics} --history {input.history}"
        " --recipe-json {params.recipe:q} --preset {params.preset} > {log} 2>&1"
