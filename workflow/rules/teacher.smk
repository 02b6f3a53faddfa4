# Follow-up B (docs/design.md, Curation and Outputs): a trained AT model (the teacher) curates pairs from unpaired audio and text
# (DU, DS, ADS); students fine-tuned on them, with replay and optionally the soft-label loss (SL), fill
# results/curation_table2.csv (teacher = vip-AnT + AT w/ GC, i.e. at_GC) and curation_table3.csv
# (teacher fine-tuned on 10 % of the GC pairs).
#
# Paths (teacher in full|sub; set = DU | DS_<task> | ADS_<task>, task = a target task of DS/ADS):
#   teacher/sub/pairs.csv                    the subset teacher's training pairs
#   models/teacher/sub/model.pt              the subset teacher (vip-AnT fine-tuned on them, at.train)
#   teacher/<teacher>/audio.{npy,csv}        the frozen teacher's audio embeddings, computed once
#   teacher/<teacher>/<set>.csv              improvement sets (pair lists into the audiocaps_train pool)
#   models/student/<teacher>/<set|own>/<hard|sl>/model.pt   students (start from the teacher, logit scale
#                                            included; teacher_curation.train's step budget; the weights of the
#                                            best validation loss are kept), evaluated as
#                                            student_<teacher>_<set|own>_<hard|sl> (vipant.registry names them)
# DS and ADS exist once per target task: the task is part of the `tset` wildcard, so each student is
# trained for one downstream task and fills that task's column only.
include: "teacher_common.smk"


wildcard_constraints:
    teacher="full|sub",
    tset=r"DU|(DS|ADS)_[a-z0-9]+",
    sset=r"own|DU|(DS|ADS)_[a-z0-9]+",
    loss="hard|sl",


rule teacher_subset:
    input:
        TEACHERS["full"]["pairs"],
    output:
        TEACHERS["sub"]["pairs"],
    log:
        f"{W}/logs/teacher/subset.log",
    benchmark:
        f"{W}/benchmarks/teacher/subset.tsv"
    conda:
        "../../envs/data.yaml"
    params:
        fraction=TC["subset_fraction"],
        seed=TC["subset_seed"],
        track=track("teacher_subset", fraction=TC["subset_fraction"], seed=TC["subset_seed"]),
    shell:
        "vipant teacher-subset --pairs {input} --fraction {params.fraction} --seed {params.seed} --out {output}"
        " --track-json {params.track:q} > {log} 2>&1"


# the subset teacher is trained exactly like at_GC (vip-AnT + AT fine-tuning, at.train), on fewer pairs
use rule finetune_at as teacher_sub with:
    input:
        init=audio_model(P["at"]["init"]),
        pairs=TEACHERS["sub"]["pairs"],
        text=f"{W}/embed/text/{TEACHER_POOL}.csv",
        val=f"{W}/embed/text/audiocaps_val.csv",
        fbank=f"{W}/fbank/audioset/index.csv",
        stats=f"{W}/fbank/stats.json",
    output:
        model=TEACHERS["sub"]["model"],
        history=f"{W}/models/teacher/sub/history.json",
    log:
        f"{W}/logs/teacher/sub_model.log",
    benchmark:
        f"{W}/benchmarks/teacher/sub_model.tsv"
    priority: 0
    params:
        track=track("teacher_sub", train=P["at"]["train"], init=P["at"]["init"], fraction=TC["subset_fraction"]),


# the frozen teacher embeds the in-the-wild audio and its own training clips once
rule teacher_embed:
    input:
        model=lambda wc: TEACHERS[wc.teacher]["model"],
        pairs=lambda wc: TEACHERS[wc.teacher]["pairs"],
        clips=f"{W}/meta/va_train.csv",
        fbank=f"{W}/fbank/audioset/index.csv",
        stats=f"{W}/fbank/stats.json",
    output:
        array=f"{W}/teacher/{{teacher}}/audio.npy",
        index=f"{W}/teacher/{{teacher}}/audio.csv",
    log:
        f"{W}/logs/teacher/{{teacher}}/embed.log",
    benchmark:
        f"{W}/benchmarks/teacher/{{teacher}}/embed.tsv"
    conda:
        "../../envs/train.yaml"
    threads: 1
    resources:
        gpu=1,
        mem_mb=8000,
        runtime=120,
    params:
        # one table: the in-the-wild clips and the teacher's training clips (soft-label targets need both)
        sets=lambda wc, input: as_json(
            {
                "audio": {
                    "clips": [input.clips, input.pairs],
                    "fbank": input.fbank,
                    "frames_length": P["va"]["frames_length"],
                }
            }
        ),
        out=lambda wc, output: os.path.dirname(output.index),
        track=track("teacher_embed"),
    shell:
        "OMP_NUM_THREADS={threads} vipant embed-audio --model {input.model} --sets-json {params.sets:q}"
        " --fbank-stats {input.stats} --out-dir {params.out} --track-json {params.track:q} > {log} 2>&1"


rule teacher_curate:
    input:
        unpack(teacher_curate_inputs),
    output:
        f"{W}/teacher/{{teacher}}/{{tset}}.csv",
    log:
        f"{W}/logs/teacher/{{teacher}}/{{tset}}.log",
    benchmark:
        f"{W}/benchmarks/teacher/{{teacher}}/{{tset}}.tsv"
    conda:
        "../../envs/train.yaml"
    params:
        args=teacher_curate_args,
        threshold=teacher_threshold,
        track=lambda wc: track("teacher_curate", threshold=TC["thresholds"][wc.tset.partition("_")[0]])(wc),
    shell:
        "vipant teacher-curate --set {wildcards.tset} --teacher-pairs {input.teacher_pairs} --pool {input.pool}"
        " {params.args} --threshold-json {params.threshold:q} --out {output} --track-json {params.track:q} > {log} 2>&1"


use rule finetune_at as finetune_student with:
    input:
        unpack(student_inputs),
    output:
        model=f"{W}/models/student/{{teacher}}/{{sset}}/{{loss}}/model.pt",
        history=f"{W}/models/student/{{teacher}}/{{sset}}/{{loss}}/history.json",
    log:
        f"{W}/logs/teacher/{{teacher}}/student_{{sset}}_{{loss}}.log",
    benchmark:
        f"{W}/benchmarks/teacher/{{teacher}}/student_{{sset}}_{{loss}}.tsv"
    priority: 0
    params:
        extra=student_args,
        train=as_json(TC["train"]),
        track=track(
            "finetune_student",
            train=TC["train"],
            replay_prob=TC["replay_prob"],
            soft_label_alpha=TC["soft_label_alpha"],
        ),
