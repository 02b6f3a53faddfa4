# Dataset index files and archives, fetched from their URLs (file:// into the world for synthetic).
rule fetch_dataset:
    input:
        world_input,
    output:
        f"{W}/raw/{{dataset}}.json",
    log:
        f"{W}/logs/fetch/{{dataset}}.log",
    benchmark:
        f"{W}/benchmarks/fetch/{{dataset}}.tsv"
    conda:
        "../../envs/data.yaml"
    resources:
        mem_mb=1000,
        runtime=120,
    params:
        spec=dataset_spec,
        world_url=WORLD_URL,
        out=lambda wc, output: output[0].removesuffix(".json"),
    shell:
        "vipant fetch --dataset {wildcards.dataset} --spec-json {params.spec:q} --world-url {params.world_url:q}"
        " --out {params.out} --record {output} > {log} 2>&1"
