# Four equally spaced JPEG frames per clip (short side 224) from the cut video; frames.keep_video: false
# (paper preset) deletes each cut once its frames exist and lists the clip in download/shard-NNN.video_dropped.txt,
# so that a rerun of the download does not fetch those cuts again (docs/cluster.md, disk budget).
rule frames:
    input:
        manifest=f"{W}/download/shard-{{shard}}.csv",
    output:
        manifest=f"{W}/frames/shard-{{shard}}.csv",
    log:
        f"{W}/logs/frames/shard-{{shard}}.log",
    benchmark:
        f"{W}/benchmarks/frames/shard-{{shard}}.tsv"
    conda:
        "../../envs/data.yaml"
    resources:
        mem_mb=1000,
        runtime=120,
    params:
        n_frames=P["frames"]["n_frames"],
        short_side=P["frames"]["short_side"],
        keep_video="--keep-video" if P["frames"]["keep_video"] else "--no-keep-video",
        out=lambda wc, output: os.path.join(os.path.dirname(output.manifest), "jpg"),
    shell:
        "vipant frames --manifest {input.manifest} --out-dir {params.out} --frames-manifest {output.manifest}"
        " --n-frames {params.n_frames} --short-side {params.short_side} {params.keep_video} > {log} 2>&1"
