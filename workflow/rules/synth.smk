# The synthetic world (docs/design.md, The synthetic world): sound sources, videos and every dataset in its real file format.
if SYNTHETIC:

    rule synth_world:
        output:
            f"{WORLD}/world.json",
        log:
            f"{W}/logs/synth_world.log",
        benchmark:
            f"{W}/benchmarks/synth_world.tsv"
        conda:
            "../../envs/data.yaml"
        threads: 2
        resources:
            mem_mb=2000,
            runtime=30,
        params:
            world=as_json(P["world"]),
            out=lambda wc, output: os.path.dirname(output[0]),
        shell:
            "vipant synth --config-json {params.world:q} --out {params.out} --jobs {threads} > {log} 2>&1"
