# VA pretraining of g_A against cached frame embeddings (docs/design.md, Stages: pretrain_va): one job per variant in config
# (init clip/random = vip-AnT/VA-Rand, frame matching, seed).


rule pretrain_va:
    input:
        vt_input,
        fbank=f"{W}/fbank/audioset/index.csv",
        stats=f"{W}/fbank/stats.json",
        frames=f"{W}/embed/frames.csv",
        train=f"{W}/meta/va_train.csv",
        val=f"{W}/meta/audioset_eval.csv",
        labels=f"{W}/meta/youtube_clips.csv",  # label sets of the held-out clips (figure 5)
        coverage_gate=f"{W}/coverage_gate.json",  # no training below download.min_coverage (coverage.smk)
        warm_start=va_warm_start_input,  # Nearest Match at n: the Random Match run it starts from
    output:
        model=f"{W}/models/va/{{va}}/model.pt",
        history=f"{W}/models/va/{{va}}/history.json",
    log:
        f"{W}/logs/pretrain_va/{{va}}.log",
    benchmark:
        f"{W}/benchmarks/pretrain_va/{{va}}.tsv"
    conda:
        "../../envs/train.yaml"
    threads: 1  # two 1-thread jobs beat one 2-thread job on CPU; profiles raise it for GPUs
    resources:
        gpu=1,  # a profile may raise it: gpu > 1 trains under torchrun, one rank per GPU (stage_launch)
        mem_mb=16000,
        runtime=48 * 60,
    params:
        vt=vt_spec_json(),
        init=lambda wc: VA_VARIANTS[wc.va]["init"],
        match=lambda wc: VA_VARIANTS[wc.va]["match"],
        train=lambda wc: as_json(va_train_params(wc)),
        frames_length=P["va"]["frames_length"],
        max_val=P["va"]["max_val"],
        out=lambda wc, output: os.path.dirname(output.model),
        launch=lambda wc, threads, resources: stage_launch(threads, resources.gpu),
        track=lambda wc: track("pretrain_va", va=VA_VARIANTS[wc.va], train=va_train_params(wc))(wc),
    shell:
        "{params.launch} pretrain-va --vt-json {params.vt:q} --fbank-index {input.fbank}"
        " --fbank-stats {input.stats} --frames {input.frames} --train-clips {input.train} --val-clips {input.val}"
        " --val-labels {input.labels}"
        " --max-val {params.max_val} --init {params.init} --match {params.match:q} --frames-length {params.frames_length}"
        " --train-json {params.train:q} --out-dir {params.out} --track-json {params.track:q} > {log} 2>&1"
