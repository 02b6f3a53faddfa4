# results/RESULTS.md: every result table of the run's scope on one generated page (vipant results-summary).
# Scope `all` (config summary_scope, the default) waits for every table of all_results; `make demo` sets
# `demo`, which summarises the coverage and vip-AnT's Tables 3 and 4 only.
rule results_summary:
    input:
        unpack(summary_inputs),
    output:
        "results/RESULTS.md",
    log:
        f"{W}/logs/results_summary.log",
    conda:
        "../../envs/data.yaml"
    params:
        preset=PRESET,
        scaling=lambda wc, input: f"--scaling-json {input.scaling}" if "scaling" in input.keys() else "",
        figures=lambda wc, input: " ".join(f"--figure {f}" for f in input.figures),
    shell:
        "vipant results-summary --out {output} --preset {params.preset} {params.scaling} {params.figures}"
        " {input.tables} --metrics {input.metrics} > {log} 2>&1"
