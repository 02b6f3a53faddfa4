# MLflow: the database and experiment are created once, before any training or evaluation job, by the
# Snakemake process itself; each invocation opens a parent run that every job's run nests under.
MLFLOW_URI = os.environ.get("VIPANT_MLFLOW_URI", config["mlflow"]["tracking_uri"])
MLFLOW_EXPERIMENT = os.environ.get("VIPANT_MLFLOW_EXPERIMENT", config["mlflow"]["experiment"])


onstart:
    from vipant import tracking

    tracking.workflow_start(tags={"preset": PRESET}, tracking_uri=MLFLOW_URI, experiment=MLFLOW_EXPERIMENT)


onsuccess:
    from vipant import tracking

    tracking.workflow_end("FINISHED", tracking_uri=MLFLOW_URI)


onerror:
    from vipant import tracking

    tracking.workflow_end("FAILED", tracking_uri=MLFLOW_URI)
