# vipant: visually pivoted audio and text, as one cached DAG.
# Stage -> rule file -> module map: see README.md.
from snakemake.utils import min_version, validate

min_version("9.0")


configfile: "config.yaml"


validate(config, "workflow/schemas/config.schema.yaml")


include: "workflow/rules/common.smk"
include: "workflow/rules/synth.smk"
include: "workflow/rules/fetch.smk"
include: "workflow/rules/metadata.smk"
include: "workflow/rules/download.smk"
include: "workflow/rules/frames.smk"
include: "workflow/rules/fbank.smk"
include: "workflow/rules/coverage.smk"


rule all:
    default_target: True
    input:
        rules.data.input,
