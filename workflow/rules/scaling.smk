# The rest of vip-AnT (built by `all_results`, not by `make demo`):
# - few-shot scaling (§4.2, figure 7): GC@N = N gold pairs (curate) -> at_GC@N (finetune_at) -> evaluate
#   -> results/scaling.csv + scaling.json (log-linear fits, ESC-50 human-parity extrapolation) -> figure7.png;
# - Table 8 (appendix D): Clotho retrieval with 10 s inputs beside Table 3's 18 s -> results/table8.csv;
# - figure 5: image->audio label-set precision/recall per VA pretraining epoch, CLIP vs random init.
import shlex

SCALING = P["scaling"]
SCALING_CURATIONS = REGISTRY.scaling_curations
SCALING_MODELS = [f"at_{c}" for c in SCALING_CURATIONS] + (["at_GC"] if SCALING["include_full"] else [])
SCALING_TASKS = ["audiocaps_retrieval", "esc50_zs", "us8k_zs"]
SCALING_REFERENCE = P["at"]["init"]  # the model every GC@N starts from: the N = 0 row (not fitted)
TABLE8_FRAMES = {**P["eval"]["frames"], "clotho_10s_retrieval": P["table8"]["short_frames"]}
FIGURE5_MODELS = {"CLIP init (vip-AnT)": "vipant", "random init (VA-Rand)": "va_rand"}


rule scaling:
    input:
        metrics=[f"{W}/eval/{m}/{t}/metrics.json" for m in [SCALING_REFERENCE, *SCALING_MODELS] for t in SCALING_TASKS],
        pairs=[f"{W}/curation/{m.removeprefix('at_')}.csv" for m in SCALING_MODELS],
        fbank=f"{W}/fbank/audioset/index.csv",
    output:
        csv=report("results/scaling.csv", caption="../report/scaling.rst", category="vip-AnT"),
        json="results/scaling.json",
    log:
        f"{W}/logs/analysis/scaling.log",
    benchmark:
        f"{W}/benchmarks/analysis/scaling.tsv"
    conda:
        "../../envs/train.yaml"
    params:
        pairs=lambda wc, input: " ".join(f"{m}={p}" for m, p in zip(SCALING_MODELS, input.pairs)),
        zero=SCALING_REFERENCE,
        track=track("scaling", scaling=SCALING),
    shell:
        "vipant scaling --pairs {params.pairs} --zero-pair-models {params.zero} --fbank-index {input.fbank}"
        " --metrics {input.metrics} --out-csv {output.csv} --out-json {output.json}"
        " --track-json {params.track:q} > {log} 2>&1"


rule figure7:
    input:
        csv="results/scaling.csv",
        json="results/scaling.json",
    output:
        png=report("results/figure7.png", caption="../report/figure7.rst", category="vip-AnT"),
        pdf="results/figure7.pdf",  # written beside the PNG by vipant.analysis.figures.save_figure
    log:
        f"{W}/logs/analysis/figure7.log",
    benchmark:
        f"{W}/benchmarks/analysis/figure7.tsv"
    conda:
        "../../envs/train.yaml"
    params:
        track=track("figure7"),
    shell:
        "vipant figure7 --scaling-csv {input.csv} --scaling-json {input.json} --out {output.png}"
        " --track-json {params.track:q} > {log} 2>&1"


# One job per model, like `evaluate`: the 10 s half of Table 8 (the 18 s half is `evaluate`'s clotho_retrieval).
rule evaluate_clotho_10s:
    input:
        unpack(clotho_10s_inputs),
    output:
        f"{W}/eval/{{model}}/clotho_10s_retrieval/metrics.json",
    log:
        f"{W}/logs/evaluate_clotho_10s/{{model}}.log",
    benchmark:
        f"{W}/benchmarks/evaluate_clotho_10s/{{model}}.tsv"
    wildcard_constraints:
        model=r"(?!oracle_av_clip)[A-Za-z0-9_@]+",
    conda:
        "../../envs/train.yaml"
    threads: 1
    resources:
        gpu=1,
        mem_mb=8000,
        runtime=60,
    params:
        inputs=evaluate_named,
        frames=as_json(TABLE8_FRAMES),
        permutations=EVAL_PERMUTATIONS,
        out=lambda wc, output: os.path.dirname(os.path.dirname(output[0])),
        track=track("evaluate_clotho_10s", frames=TABLE8_FRAMES["clotho_10s_retrieval"]),
    shell:
        "OMP_NUM_THREADS={threads} vipant evaluate --model-name {wildcards.model} --model {input.model}"
        " --tasks clotho_10s_retrieval --inputs-json {params.inputs:q} --frames-json {params.frames:q}"
        " --out-dir {params.out} --permutations {params.permutations} --track-json {params.track:q} > {log} 2>&1"


rule figure5:
    input:
        [f"{W}/models/va/{m}/history.json" for m in FIGURE5_MODELS.values()],
    output:
        png=report("results/figure5.png", caption="../report/figure5.rst", category="vip-AnT"),
        pdf="results/figure5.pdf",  # written beside the PNG by vipant.analysis.figures.save_figure
    log:
        f"{W}/logs/analysis/figure5.log",
    benchmark:
        f"{W}/benchmarks/analysis/figure5.tsv"
    conda:
        "../../envs/train.yaml"
    params:
        histories=lambda wc, input: " ".join(
            shlex.quote(f"{label}={path}") for label, path in zip(FIGURE5_MODELS, input)
        ),
        track=track("figure5"),
    shell:
        "vipant figure5 --history {params.histories} --out {output.png} --track-json {params.track:q} > {log} 2>&1"
