# yt-dlp fetches each clip's video, ffmpeg cuts the segment: 16 kHz mono FLAC + the video for frames.
rule download:
    input:
        clips=f"{W}/meta/youtube_clips.csv",
    output:
        manifest=f"{W}/download/shard-{{shard}}.csv",
    params:
        url=lambda wc: P["download"]["url_template"].replace("{world_url}", WORLD_URL),
        retries=P["download"]["retries"],
        backoff=P["download"]["backoff"],
        out=lambda wc, output: os.path.dirname(output.manifest),
    conda:
        "../../envs/data.yaml"
    log:
        f"{W}/logs/download/shard-{{shard}}.log",
    benchmark:
        f"{W}/benchmarks/download/shard-{{shard}}.tsv"
    resources:
        mem_mb=2000,
        runtime=24 * 60,
    shell:
        "vipant download --clips {input.clips} --shard {wildcards.shard} --url-template {params.url:q}"
        " --retries {params.retries} --backoff {params.backoff} --out-dir {params.out}"
        " --manifest {output.manifest} > {log} 2>&1"
