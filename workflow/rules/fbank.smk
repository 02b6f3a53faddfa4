# Kaldi FBANK features (docs/design.md, Stages: fbank) into float16 shards, one merged index per collection, and the
# normalisation statistics of the VA training split.
rule fbank_youtube:
    input:
        manifest=f"{W}/download/shard-{{shard}}.csv",
    output:
        array=f"{W}/fbank/audioset/shard-{{shard}}.npy",
        index=f"{W}/fbank/audioset/shard-{{shard}}.csv",
    log:
        f"{W}/logs/fbank/audioset/shard-{{shard}}.log",
    benchmark:
        f"{W}/benchmarks/fbank/audioset/shard-{{shard}}.tsv"
    conda:
        "../../envs/data.yaml"
    resources:
        mem_mb=2000,
        runtime=120,
    params:
        frames=P["fbank"]["frames"]["audioset"],
    shell:
        "vipant fbank --manifest {input.manifest} --target-frames {params.frames}"
        " --out-array {output.array} --out-index {output.index} > {log} 2>&1"


rule fbank_local:
    input:
        audio_list=f"{W}/meta/audio_{{collection}}.csv",
    output:
        array=f"{W}/fbank/{{collection}}/shard-{{shard}}.npy",
        index=f"{W}/fbank/{{collection}}/shard-{{shard}}.csv",
    log:
        f"{W}/logs/fbank/{{collection}}/shard-{{shard}}.log",
    benchmark:
        f"{W}/benchmarks/fbank/{{collection}}/shard-{{shard}}.tsv"
    conda:
        "../../envs/data.yaml"
    resources:
        mem_mb=2000,
        runtime=120,
    params:
        frames=lambda wc: P["fbank"]["frames"][wc.collection],
        shards=P["fbank"]["local_shards"],
    shell:
        "vipant fbank --items {input.audio_list} --shard {wildcards.shard} --shards {params.shards}"
        " --target-frames {params.frames} --out-array {output.array} --out-index {output.index} > {log} 2>&1"


rule fbank_index:
    input:
        lambda wc: (
            expand(f"{W}/fbank/audioset/shard-{{shard}}.csv", shard=SHARDS)
            if wc.name == "audioset"
            else local_fbank_shards(wc.name)
        ),
    output:
        f"{W}/fbank/{{name}}/index.csv",
    log:
        f"{W}/logs/fbank/{{name}}/index.log",
    benchmark:
        f"{W}/benchmarks/fbank/{{name}}/index.tsv"
    conda:
        "../../envs/data.yaml"
    shell:
        "vipant fbank-index --out {output} {input} > {log} 2>&1"


rule fbank_stats:
    input:
        index=f"{W}/fbank/audioset/index.csv",
        clips=f"{W}/meta/va_train.csv",
    output:
        f"{W}/fbank/stats.json",
    log:
        f"{W}/logs/fbank/stats.log",
    benchmark:
        f"{W}/benchmarks/fbank/stats.tsv"
    conda:
        "../../envs/data.yaml"
    params:
        sample=P["fbank"]["stats_sample"],
    shell:
        "vipant fbank-stats --index {input.index} --clips {input.clips} --sample {params.sample}"
        " --out {output} > {log} 2>&1"
