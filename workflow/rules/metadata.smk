# Read every dataset through its loader; list the YouTube segments to download (sharded) and the
# local audio files of each evaluation collection.
rule metadata:
    input:
        fetch_records(),
    output:
        clips=f"{W}/meta/youtube_clips.csv",
        requests=f"{W}/meta/requests.csv",
        va_train=f"{W}/meta/va_train.csv",
        audioset_eval=f"{W}/meta/audioset_eval.csv",
        local=expand(f"{W}/meta/audio_{{collection}}.csv", collection=LOCAL_COLLECTIONS),
    log:
        f"{W}/logs/metadata.log",
    benchmark:
        f"{W}/benchmarks/metadata.tsv"
    conda:
        "../../envs/data.yaml"
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        layout=as_json(P["layout"]),
        shards=P["download"]["shards"],
        raw=lambda wc, input: os.path.dirname(input[0]),
        out=lambda wc, output: os.path.dirname(output.clips),
    shell:
        "vipant metadata --raw {params.raw} --layout-json {params.layout:q} --shards {params.shards}"
        " --out-dir {params.out} > {log} 2>&1"
