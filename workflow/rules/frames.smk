# Four equally spaced JPEG frames per clip (short side 224) from the cut video.
rule frames:
    input:
        manifest=f"{W}/download/shard-{{shard}}.csv",
    output:
        manifest=f"{W}/frames/shard-{{shard}}.csv",
    params:
        n_frames=P["frames"]["n_frames"],
        short_side=P["frames"]["short_side"],
        out=lambda wc, output: os.path.join(os.path.dirname(output.manifest), "jpg"),
    conda:
        "../../envs/data.yaml"
    log:
        f"{W}/logs/frames/shard-{{shard}}.log",
    benchmark:
        f"{W}/benchmarks/frames/shard-{{shard}}.tsv"
    resources:
        mem_mb=1000,
        runtime=120,
    shell:
        "vipant frames --manifest {input.manifest} --out-dir {params.out} --frames-manifest {output.manifest}"
        " --n-frames {params.n_frames} --short-side {params.short_side} > {log} 2>&1"
