"""``python -m vipant.synth --out DIR [--config-json JSON | --config FILE.yaml] [--preset tiny] [--jobs N]``."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Sequence

import yaml

from vipant.synth.config import WorldConfig
from vipant.synth.world import build_world


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, build the world, return an exit code."""
    parser = argparse.ArgumentParser(prog="vipant synth", description="Generate the synthetic world.")
    parser.add_argument("--out", type=Path, required=True, help="folder to write the world into")
    parser.add_argument("--config-json", help="WorldConfig fields as a JSON object")
    parser.add_argument("--config", type=Path, help="YAML file with WorldConfig fields")
    parser.add_argument("--preset", choices=("default", "tiny"), help="starting values (default: demo world)")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes for media encoding")
    args = parser.parse_args(argv)
    values: dict = {}
    if args.config:
        values.update(yaml.safe_load(args.config.read_text()) or {})
    if args.config_json:
        values.update(json.loads(args.config_json) or {})
    if args.preset:
        values["preset"] = args.preset
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    build_world(WorldConfig.from_dict(values), args.out, jobs=args.jobs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
