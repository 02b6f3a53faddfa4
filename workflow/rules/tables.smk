# Paper tables, built only from metrics.json files (docs/design.md, Outputs).
rule table3:
    input:
        [f"{W}/eval/{m}/{t}/metrics.json" for m in TABLE3_MODELS for t in RETRIEVAL_TASKS],
        f"{W}/eval/oracle_av_clip/audiocaps_retrieval/metrics.json",
    output:
        report("results/table3.csv", caption="../report/table3.rst", category="vip-AnT"),
    conda:
        "../../envs/data.yaml"
    log:
        f"{W}/logs/tables/table3.log",
    benchmark:
        f"{W}/benchmarks/tables/table3.tsv"
    shell:
        "vipant table --name table3 --out {output} {input} > {log} 2>&1"


rule table4:
    input:
        [f"{W}/eval/{m}/{t}/metrics.json" for m in TABLE3_MODELS for t in ZS_TASKS],
    output:
        report("results/table4.csv", caption="../report/table4.rst", category="vip-AnT"),
    conda:
        "../../envs/data.yaml"
    log:
        f"{W}/logs/tables/table4.log",
    benchmark:
        f"{W}/benchmarks/tables/table4.tsv"
    shell:
        "vipant table --name table4 --out {output} {input} > {log} 2>&1"
