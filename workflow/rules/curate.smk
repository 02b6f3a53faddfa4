# Curated audio-text pair lists (docs/design.md, Curation): AC/FC/VC by frame->caption retrieval with the frozen CLIP,
# RC/GL/GC from AudioCaps.


rule curate:
    input:
        unpack(curate_inputs),
    output:
        f"{W}/curation/{{curation}}.csv",
    log:
        f"{W}/logs/curate/{{curation}}.log",
    benchmark:
        f"{W}/benchmarks/curate/{{curation}}.tsv"
    priority: 5  # seconds of work that each unlock a fine-tuning: ahead of evaluations and fine-tunings
    conda:
        "../../envs/train.yaml"
    params:
        args=curate_args,
        track=track("curate"),
    shell:
        "vipant curate --name {wildcards.curation} --raw-pool {input.raw_pool} {params.args} --out {output}"
        " --track-json {params.track:q} > {log} 2>&1"
