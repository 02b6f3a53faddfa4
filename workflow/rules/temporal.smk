# Follow-up A (temporal agreement, docs/design.md, Frame matching): VA pretraining with Random / Nearest / Multiframe
# Match, one model per (variant, seed) via the pretrain_va rule, each then fine-tuned on the gold AudioCaps
# pairs (GC); Table III reads audio-image retrieval of the VA models, Table IV audio-text retrieval of the
# fine-tunes, both as mean ± std over seeds. The variants × seeds are registered in common.smk.
rule finetune_at_temporal:
    wildcard_constraints:
        tva=r"tm_[a-z0-9]+_s\d+",
    input:
        init=f"{W}/models/va/{{tva}}/model.pt",
        pairs=f"{W}/curation/GC.csv",
        text=f"{W}/embed/text/{CURATION_POOL['GC']}.csv",
        val=f"{W}/embed/text/audiocaps_val.csv",
        fbank=f"{W}/fbank/audioset/index.csv",
        stats=f"{W}/fbank/stats.json",
    output:
        model=f"{W}/models/at_temporal/{{tva}}/model.pt",
        history=f"{W}/models/at_temporal/{{tva}}/history.json",
    params:
        train=lambda wc: as_json(temporal_at_train(wc)),
        frames_length=P["va"]["frames_length"],
        out=lambda wc, output: os.path.dirname(output.model),
        track=lambda wc: track("finetune_at_temporal", train=temporal_at_train(wc), init=wc.tva)(wc),
    threads: 1
    resources:
        gpu=1,
        mem_mb=16000,
        runtime=24 * 60,
    conda:
        "../../envs/train.yaml"
    log:
        f"{W}/logs/finetune_at_temporal/{{tva}}.log",
    benchmark:
        f"{W}/benchmarks/finetune_at_temporal/{{tva}}.tsv"
    shell:
        "OMP_NUM_THREADS={threads} vipant finetune-at --init-model {input.init} --pairs {input.pairs}"
        " --text {input.text} --val-text {input.val} --fbank-index {input.fbank} --fbank-stats {input.stats}"
        " --frames-length {params.frames_length} --train-json {params.train:q} --out-dir {params.out}"
        " --track-json {params.track:q} > {log} 2>&1"


rule temporal_table3:
    input:
        [f"{W}/eval/{m}/audioset_a2i/metrics.json" for m in TEMPORAL_VA],
    output:
        report("results/temporal_table3.csv", caption="../report/temporal_table3.rst", category="Temporal agreement"),
    conda:
        "../../envs/data.yaml"
    log:
        f"{W}/logs/tables/temporal_table3.log",
    benchmark:
        f"{W}/benchmarks/tables/temporal_table3.tsv"
    shell:
        "vipant table --name temporal_table3 --out {output} {input} > {log} 2>&1"


rule temporal_table4:
    input:
        [f"{W}/eval/{m}_at/audiocaps_retrieval/metrics.json" for m in TEMPORAL_VA],
    output:
        report("results/temporal_table4.csv", caption="../report/temporal_table4.rst", category="Temporal agreement"),
    conda:
        "../../envs/data.yaml"
    log:
        f"{W}/logs/tables/temporal_table4.log",
    benchmark:
        f"{W}/benchmarks/tables/temporal_table4.tsv"
    shell:
        "vipant table --name temporal_table4 --out {output} {input} > {log} 2>&1"
