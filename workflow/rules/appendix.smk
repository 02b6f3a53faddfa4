# vip-AnT appendices (built by `all_results`, not by `make demo`):
# - C, Table 7: a linear head on frozen g_A features, before the projection (random / CLIP / vip-AnT): untrained
#   encoders (init_audio_encoder) -> cached embeddings (embed_audio_probe) -> linear_probe -> results/table7.csv;
# - E: VAT fine-tuning, L_cst(A, T) + L_cst(V, A), beside AT fine-tuning on the same curations
#   (finetune_vat -> evaluate) -> results/table_vat.csv;
# - F, figure 10: pivotability, audio -> top-k images -> top-5 captions on AudioCaps test
#   (embed_audio_test -> pivotability) -> results/figure10.png + figure10.csv.
APPENDIX = P["appendix"]
VAT_CURATIONS = list(APPENDIX["vat"]["curations"])
PROBE_MODELS = list(APPENDIX["probe"]["models"])
PROBE_TASKS = ["esc50_probe", "us8k_probe", "audioset_probe"]
PIVOT_MODELS = list(APPENDIX["pivotability"]["models"])

# clip sets whose g_A embeddings are cached per model (embed-audio's --sets-json)
AUDIO_SETS = {
    name: {
        "clips": clips,
        "where": where,
        "fbank": f"{W}/fbank/{collection}/index.csv",
        "frames_length": P["eval"]["frames"][collection],
    }
    for name, clips, collection, where in (
        ("esc50", f"{W}/meta/audio_esc50.csv", "esc50", []),
        ("us8k", f"{W}/meta/audio_us8k.csv", "us8k", []),
        ("audioset_balanced_train", f"{W}/meta/requests.csv", "audioset", ["dataset=audioset", "split=balanced_train"]),
        ("audioset_eval", f"{W}/meta/audioset_eval.csv", "audioset", []),
        ("audiocaps_test", f"{W}/embed/text/audiocaps_test.csv", "audioset", []),
    )
}
PROBE_SETS = ["esc50", "us8k", "audioset_balanced_train", "audioset_eval"]
EMBED_AUDIO = (
    "OMP_NUM_THREADS={threads} vipant embed-audio --model {input.model} --sets-json {params.sets:q}"
    " --fbank-stats {input.stats} --out-dir {params.out} --track-json {params.track:q} > {log} 2>&1"
)


# named inputs of a linear-probe job (the linear-probe command looks them up by these names)
PROBE_LABELS = {
    "labels_esc50": f"{W}/meta/audio_esc50.csv",
    "labels_us8k": f"{W}/meta/audio_us8k.csv",
    "labels_audioset": f"{W}/meta/youtube_clips.csv",
    "classes_esc50": f"{W}/meta/text/labels_esc50_noprompt.csv",
    "classes_us8k": f"{W}/meta/text/labels_us8k_noprompt.csv",
    "classes_audioset": f"{W}/meta/text/audioset_labels.csv",
}
PROBE_EMBEDDINGS = {
    "esc50": "esc50",
    "us8k": "us8k",
    "audioset_train": "audioset_balanced_train",
    "audioset_eval": "audioset_eval",
}
PIVOT_FIXED = {"frames": f"{W}/embed/frames.csv", "captions": f"{W}/embed/text/audiocaps_test.csv"}


rule init_audio_encoder:
    input:
        vt_input,
    output:
        f"{W}/models/init/{{init}}/model.pt",
    log:
        f"{W}/logs/init_audio_encoder/{{init}}.log",
    benchmark:
        f"{W}/benchmarks/init_audio_encoder/{{init}}.tsv"
    wildcard_constraints:
        init="clip|random",
    conda:
        "../../envs/train.yaml"
    resources:
        mem_mb=4000,
    params:
        vt=vt_spec_json(),
        frames_length=P["va"]["frames_length"],
        track=track("init_audio_encoder"),
    shell:
        "vipant init-audio-encoder --vt-json {params.vt:q} --init {wildcards.init} --seed 0"
        " --frames-length {params.frames_length} --out {output} --track-json {params.track:q} > {log} 2>&1"


# Appendix E: the AT recipe and inputs of finetune_at plus the cached frame embeddings (the V term).
use rule finetune_at as finetune_vat with:
    input:
        init=audio_model(P["at"]["init"]),
        pairs=f"{W}/curation/{{curation}}.csv",
        text=lambda wc: f"{W}/embed/text/{CURATION_POOL[wc.curation]}.csv",
        frames=f"{W}/embed/frames.csv",
        val=f"{W}/embed/text/audiocaps_val.csv",
        fbank=f"{W}/fbank/audioset/index.csv",
        stats=f"{W}/fbank/stats.json",
    output:
        model=f"{W}/models/vat/{{curation}}/model.pt",
        history=f"{W}/models/vat/{{curation}}/history.json",
    log:
        f"{W}/logs/finetune_vat/{{curation}}.log",
    benchmark:
        f"{W}/benchmarks/finetune_vat/{{curation}}.tsv"
    priority: 0
    params:
        track=track("finetune_vat", train=P["at"]["train"], init=P["at"]["init"]),
        extra=lambda wc, input: f" --vat-frames {input.frames}",


# One job per model and consumer (the model is loaded once): the linear probe's four sets, and the
# AudioCaps test clips for pivotability.
rule embed_audio_probe:
    input:
        model=lambda wc: audio_model(wc.model),
        clips=sorted({AUDIO_SETS[s]["clips"] for s in PROBE_SETS}),
        fbank=sorted({AUDIO_SETS[s]["fbank"] for s in PROBE_SETS}),
        stats=f"{W}/fbank/stats.json",
    output:
        [f"{W}/embed/audio/{{model}}/{s}.{ext}" for s in PROBE_SETS for ext in ("csv", "npy")],
    log:
        f"{W}/logs/embed_audio/{{model}}/probe.log",
    benchmark:
        f"{W}/benchmarks/embed_audio/{{model}}/probe.tsv"
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
        # the probe reads g_A's representation before the projection (AudioEncoder.features)
        sets=as_json({s: {**AUDIO_SETS[s], "representation": "features"} for s in PROBE_SETS}),
        out=lambda wc, output: os.path.dirname(output[0]),
        track=track("embed_audio_probe"),
    shell:
        EMBED_AUDIO


rule embed_audio_test:
    input:
        model=lambda wc: audio_model(wc.model),
        clips=AUDIO_SETS["audiocaps_test"]["clips"],
        fbank=AUDIO_SETS["audiocaps_test"]["fbank"],
        stats=f"{W}/fbank/stats.json",
    output:
        [f"{W}/embed/audio/{{model}}/audiocaps_test.{ext}" for ext in ("csv", "npy")],
    log:
        f"{W}/logs/embed_audio/{{model}}/audiocaps_test.log",
    benchmark:
        f"{W}/benchmarks/embed_audio/{{model}}/audiocaps_test.tsv"
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
        sets=as_json({"audiocaps_test": AUDIO_SETS["audiocaps_test"]}),
        out=lambda wc, output: os.path.dirname(output[0]),
        track=track("embed_audio_test"),
    shell:
        EMBED_AUDIO


# Appendix C: linear head on frozen embeddings (the paper fine-tunes the encoder; see README).
rule linear_probe:
    input:
        unpack(
            lambda wc: {
                **PROBE_LABELS,
                **{k: f"{W}/embed/audio/{wc.model}/{s}.csv" for k, s in PROBE_EMBEDDINGS.items()},
            }
        ),
    output:
        [f"{W}/eval/{{model}}/{task}/metrics.json" for task in PROBE_TASKS],
    log:
        f"{W}/logs/linear_probe/{{model}}.log",
    benchmark:
        f"{W}/benchmarks/linear_probe/{{model}}.tsv"
    wildcard_constraints:
        model=r"(?!oracle_av_clip)[A-Za-z0-9_@]+",
    conda:
        "../../envs/train.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        tasks=",".join(PROBE_TASKS),
        inputs=lambda wc, input: as_json(dict(input.items())),
        probe=as_json(APPENDIX["probe"]["train"]),
        out=lambda wc, output: os.path.dirname(os.path.dirname(output[0])),
        track=track("linear_probe", probe=APPENDIX["probe"]["train"]),
    shell:
        "OMP_NUM_THREADS={threads} vipant linear-probe --model-name {wildcards.model} --tasks {params.tasks}"
        " --inputs-json {params.inputs:q} --probe-json {params.probe:q} --out-dir {params.out}"
        " --track-json {params.track:q} > {log} 2>&1"


# Appendix F: one pivotability curve per model (OracleAV-CLIP: the clip's own frame as the query).
rule pivotability:
    input:
        # OracleAV-CLIP has no audio embeddings: the clip's own frame is the query
        unpack(
            lambda wc: {
                **PIVOT_FIXED,
                **(
                    {} if wc.model == "oracle_av_clip" else {"audio": f"{W}/embed/audio/{wc.model}/audiocaps_test.csv"}
                ),
            }
        ),
    output:
        f"{W}/eval/{{model}}/audiocaps_pivotability/metrics.json",
    log:
        f"{W}/logs/pivotability/{{model}}.log",
    benchmark:
        f"{W}/benchmarks/pivotability/{{model}}.tsv"
    conda:
        "../../envs/train.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        audio=lambda wc, input: input.get("audio", "frames"),
        ks=",".join(str(k) for k in APPENDIX["pivotability"]["ks"]),
        n_captions=APPENDIX["pivotability"]["captions_per_image"],
        track=track("pivotability", pivotability=APPENDIX["pivotability"]),
    shell:
        "OMP_NUM_THREADS={threads} vipant pivotability --model-name {wildcards.model} --audio {params.audio}"
        " --frames {input.frames} --captions {input.captions} --ks {params.ks} --n-captions {params.n_captions}"
        " --out {output} --track-json {params.track:q} > {log} 2>&1"


rule figure10:
    input:
        [f"{W}/eval/{m}/audiocaps_pivotability/metrics.json" for m in PIVOT_MODELS],
    output:
        png=report("results/figure10.png", caption="../report/figure10.rst", category="vip-AnT"),
        csv="results/figure10.csv",
    log:
        f"{W}/logs/figures/figure10.log",
    benchmark:
        f"{W}/benchmarks/figures/figure10.tsv"
    conda:
        "../../envs/train.yaml"
    shell:
        "vipant figure10 --out-png {output.png} --out-csv {output.csv} {input} > {log} 2>&1"
