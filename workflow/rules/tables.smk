# Every results table, built only from metrics.json files (docs/design.md, Outputs): one rule, the table's
# name as its wildcard; table_inputs (common.smk) lists the files each table reads, vipant.tables builds it.
rule table:
    input:
        table_inputs,
    output:
        report("results/{table}.csv", caption="../report/table.rst", category=table_category),
    log:
        f"{W}/logs/tables/{{table}}.log",
    benchmark:
        f"{W}/benchmarks/tables/{{table}}.tsv"
    conda:
        "../../envs/data.yaml"
    params:
        aliases=table_aliases,
    shell:
        "vipant table --name {wildcards.table} --out {output} {params.aliases} {input} > {log} 2>&1"
