# Follow-up A (temporal agreement, docs/design.md, Frame matching): VA pretraining with Random / Nearest / Multiframe
# Match, one model per (variant, seed) via the pretrain_va rule, each then fine-tuned on the gold AudioCaps
# pairs (GC); Table III reads audio-image retrieval of the VA models, Table IV audio-text retrieval of the
# fine-tunes, both as mean ± std over seeds. The variants × seeds are registered in common.smk.
use rule finetune_at as finetune_at_temporal with:
    input:
        init=f"{W}/models/va/{{tva}}/model.pt",
        pairs=f"{W}/curation/GC.csv",
        text=f"{W}/embed/text/{CURATION_POOL['GC']}.csv",
        val=f"{W}/embed/text/audiocaps_val.csv",
        fbank=f"{W}/fbank/audioset/index.csv",
        stats=f"{W}/fbank/stats.json",
    output:
        model=f"{W}/models/at_temporal/{{tva}}/model.pt",
        history=f"{W}/models/at_temporal/{{tva}}/history.json",
    log:
        f"{W}/logs/finetune_at_temporal/{{tva}}.log",
    benchmark:
        f"{W}/benchmarks/finetune_at_temporal/{{tva}}.tsv"
    wildcard_constraints:
        tva=r"tm_[a-z0-9]+_s\d+",
    priority: 0
    params:
        train=lambda wc: as_json(temporal_at_train(wc)),
        track=lambda wc: track("finetune_at_temporal", train=temporal_at_train(wc), init=wc.tva)(wc),
