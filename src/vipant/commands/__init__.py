"""Glue between the ``vipant`` CLI (what the Snakemake rules call) and the library: each module reads a
stage's input files, calls the library, writes the outputs atomically and logs the job to MLflow."""
