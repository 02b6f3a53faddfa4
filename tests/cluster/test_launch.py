"""How the workflow starts VA pretraining: one process per GPU job, torchrun when a profile gives it more GPUs."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from snakemake.api import SnakemakeApi
from snakemake.settings.types import ConfigSettings, OutputSettings, ResourceSettings

ROOT = Path(__file__).resolve().parents[2]


def test_pretrain_va_runs_under_torchrun_when_given_several_gpus(tmp_path) -> None:
    """The pretrain_va rule's launch with ``gpu=4`` and 16 threads is torchrun with 4 ranks of 4 threads each;
    with ``gpu=1`` it is the plain command. Catches a rule that ignores its ``gpu`` resource (4 GPUs booked,
    one used), a rank count taken from elsewhere, and every rank claiming all 16 threads."""
    with SnakemakeApi(OutputSettings(quiet={"all"})) as api:
        workflow = api.workflow(
            resource_settings=ResourceSettings(cores=1),
            config_settings=ConfigSettings(configfiles=[ROOT / "config.yaml"], config={"preset": "synthetic"}),
            snakefile=ROOT / "Snakefile",
            workdir=tmp_path,
        )
        rule = workflow._workflow.get_rule("pretrain_va")
        launch = rule.params.launch
        four = launch(SimpleNamespace(va="vipant"), 16, SimpleNamespace(gpu=4))
        one = launch(SimpleNamespace(va="vipant"), 16, SimpleNamespace(gpu=1))
    assert four == ("OMP_NUM_THREADS=4 python -m torch.distributed.run --standalone --nproc_per_node=4 -m vipant.cli")
    assert one == "OMP_NUM_THREADS=16 vipant"
    assert "{params.launch} pretrain-va" in rule.shellcmd
