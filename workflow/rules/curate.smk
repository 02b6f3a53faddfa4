# Curated audio-text pair lists (SPEC 5): AC/FC/VC by frame->caption retrieval with the frozen CLIP,
# RC/GL/GC from AudioCaps.
def curate_inputs(wildcards):
    name = wildcards.curation
    pool = CURATION_POOL[name]
    named = {"raw_pool": f"{W}/meta/text/{pool}.csv"}
    if name in ("AC", "FC", "VC"):
        named.update(prompted=f"{W}/embed/text/{pool}_prompted.csv", frames=f"{W}/embed/frames.csv",
                     train=f"{W}/meta/va_train.csv")
    else:
        named.update(audiocaps=f"{W}/raw/audiocaps.json", clips=f"{W}/meta/youtube_clips.csv")
    return named


def curate_args(wildcards, input):
    if wildcards.curation in ("AC", "FC", "VC"):
        return f"--prompted {input.prompted} --frames {input.frames} --train-clips {input.train}"
    audiocaps_train = os.path.join(input.audiocaps.removesuffix(".json"), "train.csv")
    return f"--audiocaps-train {audiocaps_train} --youtube-clips {input.clips}"


rule curate:
    input:
        unpack(curate_inputs),
    output:
        f"{W}/curation/{{curation}}.csv",
    params:
        args=curate_args,
        track=track("curate"),
    conda:
        "../../envs/train.yaml"
    log:
        f"{W}/logs/curate/{{curation}}.log",
    benchmark:
        f"{W}/benchmarks/curate/{{curation}}.tsv"
    shell:
        "vipant curate --name {wildcards.curation} --raw-pool {input.raw_pool} {params.args} --out {output}"
        " --track-json {params.track:q} > {log} 2>&1"
