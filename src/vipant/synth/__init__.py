"""The synthetic world (docs/design.md, The synthetic world): sources, clips, videos and every dataset in its real format.

``build_world(WorldConfig(), out_dir, jobs=2)`` writes it; ``python -m vipant.synth`` does the same
from the command line.
"""

from vipant.synth.config import WorldConfig, WorldConfigError
from vipant.synth.world import build_world, metadata_files, plan_world

__all__ = ["WorldConfig", "WorldConfigError", "build_world", "metadata_files", "plan_world"]
