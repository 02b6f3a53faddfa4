# Evaluation (docs/design.md, Metrics): one job per model covering its tasks, one metrics.json per (model, task).


rule evaluate:
    input:
        unpack(evaluate_inputs),
    output:
        [f"{W}/eval/{{model}}/{task}/metrics.json" for task in EVAL_TASKS],
    log:
        f"{W}/logs/evaluate/{{model}}.log",
    benchmark:
        f"{W}/benchmarks/evaluate/{{model}}.tsv"
    wildcard_constraints:
        model=r"(?!oracle_av_clip)[A-Za-z0-9_@]+",
    conda:
        "../../envs/train.yaml"
    threads: 1  # two 1-thread jobs beat one 2-thread job on CPU; profiles raise it for GPUs
    resources:
        gpu=1,
        mem_mb=8000,
        runtime=120,
    params:
        tasks=",".join(EVAL_TASKS),
        inputs=evaluate_named,
        frames=as_json(P["eval"]["frames"]),
        permutations=EVAL_PERMUTATIONS,
        out=lambda wc, output: os.path.dirname(os.path.dirname(output[0])),
        track=track("evaluate"),
    shell:
        "OMP_NUM_THREADS={threads} vipant evaluate --model-name {wildcards.model} --model {input.model}"
        " --tasks {params.tasks} --inputs-json {params.inputs:q} --frames-json {params.frames:q}"
        " --out-dir {params.out} --permutations {params.permutations} --track-json {params.track:q} > {log} 2>&1"


rule evaluate_oracle:
    input:
        unpack(lambda wc: eval_inputs(["audiocaps_retrieval"], oracle=True)),
    output:
        f"{W}/eval/oracle_av_clip/audiocaps_retrieval/metrics.json",
    log:
        f"{W}/logs/evaluate/oracle_av_clip.log",
    benchmark:
        f"{W}/benchmarks/evaluate/oracle_av_clip.tsv"
    conda:
        "../../envs/train.yaml"
    params:
        inputs=lambda wc, input: as_json(dict(input.items())),
        frames=as_json(P["eval"]["frames"]),
        permutations=EVAL_PERMUTATIONS,
        out=lambda wc, output: os.path.dirname(os.path.dirname(output[0])),
        track=track("evaluate_oracle"),
    shell:
        "vipant evaluate --model-name oracle_av_clip --model frames --tasks audiocaps_retrieval"
        " --inputs-json {params.inputs:q} --frames-json {params.frames:q} --out-dir {params.out}"
        " --permutations {params.permutations} --track-json {params.track:q} > {log} 2>&1"
