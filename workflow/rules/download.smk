# yt-dlp fetches each clip's segment (or video), ffmpeg cuts it: 16 kHz mono FLAC + the video for frames.
#
# Retries without --forcerun: while a shard's manifest lists clips a rerun would try again (network,
# blocked), the rule takes a new "retry ticket" input each invocation, and Snakemake reruns a job whose set
# of inputs changed; once all rows are final the ticket stays the one of the last run
# (vipant.acquire.manifest.retry_token; Snakemake ignores parameters computed by functions, hence a file).
# With a cookie file configured, age-restricted clips count as retryable too.
#
# `youtube=1` caps how many shards talk to YouTube at once, separately from --jobs: download.parallel_shards
# in config, or `snakemake --resources youtube=N` (N IPs or proxies; docs/download.md).
import shlex

from vipant.acquire.manifest import retry_token

if "youtube" not in workflow.global_resources:
    workflow.register_resource("youtube", P["download"]["parallel_shards"])


_DL = P["download"]
# the download command's options from config (not a tracked parameter: changing pacing reruns nothing)
DOWNLOAD_ARGS = " ".join(
    [
        f"--retries {_DL['retries']} --backoff {_DL['backoff']}",
        "--sections" if _DL["sections"] else "--no-sections",
        f"--sleep-interval {_DL['sleep_interval']} --max-sleep-interval {_DL['max_sleep_interval']}",
        f"--sleep-interval-requests {_DL['sleep_interval_requests']} --socket-timeout {_DL['socket_timeout']}",
        f"--blocked-limit {_DL['blocked_limit']} --blocked-pauses {_DL['blocked_pauses']}",
        f"--blocked-pause {_DL['blocked_pause']} --js-runtime {shlex.quote(_DL['js_runtime'])}",
    ]
    + [
        f"--{key.replace('_', '-')} {shlex.quote(str(_DL[key]))}"
        for key in ("cookies", "proxy", "rate_limit", "js_runtime_path")
        if _DL[key]
    ]
)


rule download_retry_ticket:
    output:
        f"{W}/download/retry/shard-{{shard}}.{{token}}",
    log:
        f"{W}/logs/download/retry-{{shard}}.{{token}}.log",
    benchmark:
        f"{W}/benchmarks/download/retry-{{shard}}.{{token}}.tsv"
    wildcard_constraints:
        token=r"retry-\d+-\d+",
    conda:
        "../../envs/data.yaml"
    shell:
        "touch {output} > {log} 2>&1"


rule download:
    input:
        clips=f"{W}/meta/youtube_clips.csv",
        # a retry ticket named after the manifest's retry token, none while there is nothing to retry
        ticket=lambda wc: [
            f"{W}/download/retry/shard-{wc.shard}.{token}"
            for token in [retry_token(f"{W}/download/shard-{wc.shard}.csv", cookies=bool(P["download"]["cookies"]))]
            if token
        ],
    output:
        # updated, not replaced: Snakemake would delete it before a rerun, and with it the finished clips
        manifest=update(f"{W}/download/shard-{{shard}}.csv"),
    log:
        f"{W}/logs/download/shard-{{shard}}.log",
    benchmark:
        f"{W}/benchmarks/download/shard-{{shard}}.tsv"
    conda:
        "../../envs/data.yaml"
    resources:
        mem_mb=2000,
        runtime=24 * 60,
        youtube=1,
    params:
        url=lambda wc: P["download"]["url_template"].replace("{world_url}", WORLD_URL),
        args=lambda wc: DOWNLOAD_ARGS,
        retry=lambda wc, input: os.path.basename(input.ticket[0]).split(".", 1)[1] if input.ticket else "",
        out=lambda wc, output: os.path.dirname(output.manifest),
    shell:
        "vipant download --clips {input.clips} --shard {wildcards.shard} --url-template {params.url:q}"
        " {params.args} --run-token={params.retry:q} --out-dir {params.out}"
        " --manifest {output.manifest} > {log} 2>&1"
