# Frozen-encoder caches: every frame and every text pool is embedded once (docs/design.md, Stages: embed).
rule embed_frames:
    input:
        vt_input,
        frames=f"{W}/frames/shard-{{shard}}.csv",
    output:
        array=temp(f"{W}/embed/frames/shard-{{shard}}.npy"),
        index=temp(f"{W}/embed/frames/shard-{{shard}}.csv"),
    log:
        f"{W}/logs/embed/frames-{{shard}}.log",
    benchmark:
        f"{W}/benchmarks/embed/frames-{{shard}}.tsv"
    conda:
        "../../envs/train.yaml"
    # ~1 s of embedding after ~8 s of imports: a second thread would only keep another job off the core
    threads: 1
    resources:
        gpu=1,
        mem_mb=4000,
        runtime=120,
    params:
        vt=vt_spec_json(),
        n_frames=P["frames"]["n_frames"],
        out=lambda wc, output: output.index.removesuffix(".csv"),
        track=track("embed_frames"),
    shell:
        "OMP_NUM_THREADS={threads} vipant embed-frames --vt-json {params.vt:q} --frames-manifest {input.frames}"
        " --n-frames {params.n_frames} --out {params.out} --track-json {params.track:q} > {log} 2>&1"


rule embed_frames_merge:
    input:
        arrays=expand(f"{W}/embed/frames/shard-{{shard}}.npy", shard=SHARDS),
        indexes=expand(f"{W}/embed/frames/shard-{{shard}}.csv", shard=SHARDS),
    output:
        array=f"{W}/embed/frames.npy",
        index=f"{W}/embed/frames.csv",
    log:
        f"{W}/logs/embed/frames-merge.log",
    benchmark:
        f"{W}/benchmarks/embed/frames-merge.tsv"
    conda:
        "../../envs/train.yaml"
    shell:
        "vipant embed-merge --out {output.index} {input.indexes} > {log} 2>&1"


rule text_pools:
    input:
        fetch_records(),
    output:
        [f"{W}/meta/text/{p}.csv" for p in TEXT_POOLS if not p.startswith("fc")],
    log:
        f"{W}/logs/text_pools.log",
    benchmark:
        f"{W}/benchmarks/text_pools.tsv"
    conda:
        "../../envs/data.yaml"
    params:
        raw=lambda wc, input: os.path.dirname(input[0]),
        layout=as_json(P["layout"]),
        out=lambda wc, output: os.path.dirname(output[0]),
    shell:
        "vipant text-pools --raw {params.raw} --layout-json {params.layout:q} --out-dir {params.out} > {log} 2>&1"


rule free_captions:
    input:
        coco=f"{W}/raw/coco.json",
    output:
        fc=f"{W}/meta/text/fc.csv",
        prompted=f"{W}/meta/text/fc_prompted.csv",
    log:
        f"{W}/logs/free_captions.log",
    benchmark:
        f"{W}/benchmarks/free_captions.tsv"
    conda:
        "../../envs/train.yaml"
    resources:
        gpu=0 if P["fc"]["generator"] == "trigram" else 1,
    params:
        coco=lambda wc, input: os.path.join(input.coco.removesuffix(".json"), "annotations", "captions_train2017.json"),
        generator=P["fc"]["generator"],
        n=P["fc"]["n"],
        seed=P["fc"]["seed"],
    shell:
        "vipant free-captions --coco {params.coco:q} --generator {params.generator:q} --n {params.n}"
        " --seed {params.seed} --out {output.fc} > {log} 2>&1"


rule embed_text:
    input:
        vt_input,
        pools=[f"{W}/meta/text/{p}.csv" for p in TEXT_POOLS],
    output:
        arrays=[f"{W}/embed/text/{p}.npy" for p in TEXT_POOLS],
        indexes=[f"{W}/embed/text/{p}.csv" for p in TEXT_POOLS],
    log:
        f"{W}/logs/embed/text.log",
    benchmark:
        f"{W}/benchmarks/embed/text.tsv"
    # run as soon as the VT exists (beside the data stages), not after VA pretraining with a core idle:
    # curation, AT and evaluation all wait for it
    priority: 10
    conda:
        "../../envs/train.yaml"
    threads: 1
    resources:
        gpu=1,
        mem_mb=4000,
        runtime=60,
    params:
        vt=vt_spec_json(),
        pools=",".join(TEXT_POOLS),
        pools_dir=lambda wc, input: os.path.dirname(input.pools[0]),
        out=lambda wc, output: os.path.dirname(output.indexes[0]),
    shell:
        "OMP_NUM_THREADS={threads} vipant embed-text --vt-json {params.vt:q} --pools {params.pools}"
        " --pools-dir {params.pools_dir} --out-dir {params.out} > {log} 2>&1"
