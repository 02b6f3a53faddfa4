"""vipant: visually pivoted audio and text (vip-AnT) and its follow-ups, as a reproducible workflow.

Python API (docs/api.md): ``vipant.load_model(path)`` returns a :class:`vipant.api.Model`. It is imported
on first use, so ``import vipant`` (and ``vipant --help``) does not import torch.
"""

__version__ = "0.1.0"

__all__ = ["AudioBatchError", "Model", "load_model", "__version__"]


def __getattr__(name: str):
    if name in ("load_model", "Model", "AudioBatchError"):
        from vipant import api

        return getattr(api, name)
    raise AttributeError(f"module 'vipant' has no attribute {name!r}")
