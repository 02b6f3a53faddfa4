# vipant: visually pivoted audio and text, as one cached DAG.
# Stage -> rule file -> module map: see README.md.
from snakemake.utils import min_version, validate

min_version("9.0")


configfile: "config.yaml"


validate(config, "workflow/schemas/config.schema.yaml")


# Landing page of `snakemake --report results/report.html`: what the run is and where its numbers come from.
report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/mlflow.smk"
include: "workflow/rules/synth.smk"
include: "workflow/rules/fetch.smk"
include: "workflow/rules/metadata.smk"
include: "workflow/rules/download.smk"
include: "workflow/rules/frames.smk"
include: "workflow/rules/fbank.smk"
include: "workflow/rules/coverage.smk"
include: "workflow/rules/vt.smk"
include: "workflow/rules/embed.smk"
include: "workflow/rules/pretrain_va.smk"
include: "workflow/rules/curate.smk"
include: "workflow/rules/finetune_at.smk"
include: "workflow/rules/temporal.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/scaling.smk"
include: "workflow/rules/teacher.smk"
include: "workflow/rules/appendix.smk"
include: "workflow/rules/tables.smk"
include: "workflow/rules/summary.smk"


rule all:
    default_target: True
    input:
        rules.data.input,
        "results/table3.csv",
        "results/table4.csv",
        AT_EXPORTS,


# Every table and figure of the three papers (slow: see README, "Everything").
rule all_results:
    input:
        ALL_RESULTS,
        "results/RESULTS.md",
