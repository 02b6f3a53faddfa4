# results/RESULTS.md: every result table of the run's scope on one generated page (vipant results-summary).
# Scope `all` (config summary_scope, the default) waits for every table of all_results; `make demo` sets
# `demo`, which summarises the coverage and vip-AnT's Tables 3 and 4 only.
SUMMARY_SCOPES = {
    "demo": ["results/coverage.csv", "results/table3.csv", "results/table4.csv"],
    "all": ["results/coverage.csv"] + [t for t in ALL_RESULTS if t.startswith("results/")],
}


def summary_inputs(wildcards):
    paths = SUMMARY_SCOPES[config.get("summary_scope", "all")]
    named = {
        "tables": [p for p in paths if p.endswith(".csv")],
        "figures": [p for p in paths if p.endswith(".png")],
    }
    if "results/scaling.csv" in paths:
        named["scaling"] = "results/scaling.json"
    if "results/figure10.png" in paths:
        named["tables"].append("results/figure10.csv")
    return named


rule results_summary:
    input:
        unpack(summary_inputs),
    output:
        "results/RESULTS.md",
    params:
        preset=PRESET,
        scaling=lambda wc, input: f"--scaling-json {input.scaling}" if "scaling" in input.keys() else "",
        figures=lambda wc, input: " ".join(f"--figure {f}" for f in input.figures),
    conda:
        "../../envs/data.yaml"
    log:
        f"{W}/logs/results_summary.log",
    shell:
        "vipant results-summary --out {output} --preset {params.preset} {params.scaling} {params.figures}"
        " {input.tables} > {log} 2>&1"
