# The frozen VT model. Synthetic preset: train a small CLIP on the world's image-caption corpus; the
# paper preset loads OpenAI's ViT-B/32 weights, resolved once (on the submitting node: a local rule) into a
# local file that every job reads, so no compute node waits on the Hub.
if VT_TRAINED:

    rule pretrain_vt:
        input:
            world=f"{WORLD}/world.json",
        output:
            model=VT_CKPT,
            metrics=f"{W}/models/vt/metrics.json",
        log:
            f"{W}/logs/pretrain_vt.log",
        benchmark:
            f"{W}/benchmarks/pretrain_vt.tsv"
        conda:
            "../../envs/train.yaml"
        threads: 2
        resources:
            gpu=1,
            mem_mb=8000,
            runtime=120,
        params:
            corpus=lambda wc, input: os.path.join(os.path.dirname(input.world), "vt_corpus"),
            model=as_json(P["vt"]["model"]),
            train=as_json(P["vt"]["train"]),
            track=track("pretrain_vt", model=P["vt"]["model"], train=P["vt"]["train"]),
        shell:
            "OMP_NUM_THREADS={threads} vipant pretrain-vt --corpus {params.corpus} --model-json {params.model:q}"
            " --train-json {params.train:q} --out {output.model} --metrics {output.metrics}"
            " --track-json {params.track:q} > {log} 2>&1"

else:

    localrules:
        vt_weights,

    rule vt_weights:
        output:
            VT_WEIGHTS,
        log:
            f"{W}/logs/vt_weights.log",
        benchmark:
            f"{W}/benchmarks/vt_weights.tsv"
        conda:
            "../../envs/train.yaml"
        params:
            name=P["vt"]["name"],
            pretrained=P["vt"]["pretrained"],
        shell:
            "vipant vt-weights --name {params.name:q} --pretrained {params.pretrained:q} --out {output} > {log} 2>&1"
