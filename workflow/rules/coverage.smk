# What share of each dataset split survived download and decoding, failures counted by reason.
rule coverage:
    input:
        requests=f"{W}/meta/requests.csv",
        manifests=expand(f"{W}/download/shard-{{shard}}.csv", shard=SHARDS),
        indexes=expand(f"{W}/fbank/{{name}}/index.csv", name=["audioset"] + LOCAL_COLLECTIONS),
    output:
        report(
            "results/coverage.csv",
            caption="../report/coverage.rst",
            category="Data",
        ),
    log:
        f"{W}/logs/coverage.log",
    benchmark:
        f"{W}/benchmarks/coverage.tsv"
    conda:
        "../../envs/data.yaml"
    params:
        min_coverage=P["download"]["min_coverage"],
    shell:
        "vipant coverage --requests {input.requests} --manifests {input.manifests} --fbank-indexes {input.indexes}"
        " --min-coverage {params.min_coverage} --out {output} > {log} 2>&1"


# The training gate: pretrain_va waits for this, and it fails (naming each split and its numbers) while a
# split's coverage is below download.min_coverage, unless download.allow_low_coverage is set.
rule coverage_gate:
    input:
        "results/coverage.csv",
    output:
        f"{W}/coverage_gate.json",
    log:
        f"{W}/logs/coverage_gate.log",
    benchmark:
        f"{W}/benchmarks/coverage_gate.tsv"
    conda:
        "../../envs/data.yaml"
    params:
        min_coverage=P["download"]["min_coverage"],
        allow=lambda wc: "--allow-low" if P["download"]["allow_low_coverage"] else "",
    shell:
        "vipant coverage-gate --coverage {input} --min-coverage {params.min_coverage} {params.allow}"
        " --out {output} > {log} 2>&1"


# Everything the data stages produce: features + stats for every collection, frames, coverage.
rule data:
    input:
        "results/coverage.csv",
        f"{W}/fbank/stats.json",
        expand(f"{W}/frames/shard-{{shard}}.csv", shard=SHARDS),
        expand(f"{W}/fbank/{{name}}/index.csv", name=["audioset"] + LOCAL_COLLECTIONS),
