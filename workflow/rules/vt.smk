# The frozen VT model. Synthetic preset: train a small CLIP on the world's image-caption corpus; the
# paper preset loads OpenAI's ViT-B/32 weights instead and has no such rule.
if VT_TRAINED:

    rule pretrain_vt:
        input:
            world=f"{WORLD}/world.json",
        output:
            model=VT_CKPT,
            metrics=f"{W}/models/vt/metrics.json",
        params:
            corpus=lambda wc, input: os.path.join(os.path.dirname(input.world), "vt_corpus"),
            model=as_json(P["vt"]["model"]),
            train=as_json(P["vt"]["train"]),
            track=track("pretrain_vt", model=P["vt"]["model"], train=P["vt"]["train"]),
        threads: 2
        resources:
            gpu=1,
            mem_mb=8000,
            runtime=120,
        conda:
            "../../envs/train.yaml"
        log:
            f"{W}/logs/pretrain_vt.log",
        benchmark:
            f"{W}/benchmarks/pretrain_vt.tsv"
        shell:
            "OMP_NUM_THREADS={threads} vipant pretrain-vt --corpus {params.corpus} --model-json {params.model:q}"
            " --train-json {params.train:q} --out {output.model} --metrics {output.metrics}"
            " --track-json {params.track:q} > {log} 2>&1"
