"""``vipant init-audio-encoder``: an untrained g_A checkpoint (CLIP-initialised or random), the "CLIP" and
"random" initialisations of vip-AnT appendix C's supervised classification (table 7)."""

from __future__ import annotations

import logging

from vipant.commands.common import tracked, vt_spec

log = logging.getLogger(__name__)


def run(args) -> None:
    import torch

    from vipant.models.audio_encoder import AudioEncoder, save_audio_model
    from vipant.models.vt import load_vt

    with tracked(args.track_json, init=args.init, seed=args.seed):
        vt, _, vt_config = load_vt(vt_spec(args.vt_json))
        torch.manual_seed(args.seed)  # the random initialisation is reproducible
        encoder = AudioEncoder(vt.visual, init=args.init, frames=args.frames_length)
        save_audio_model(args.out, encoder, vt_config, init=args.init, match="none", trained=False)
    log.info("untrained %s-initialised audio encoder written to %s", args.init, args.out)


def add_parser(sub) -> None:
    p = sub.add_parser("init-audio-encoder", help="write an untrained audio encoder (CLIP-initialised or random)")
    p.add_argument("--vt-json", required=True, help="the VT model whose image tower initialises g_A")
    p.add_argument("--init", choices=["clip", "random"], required=True)
    p.add_argument("--seed", type=int, default=0, help="seed of the random initialisation")
    p.add_argument("--frames-length", type=int, default=1000)
    p.add_argument("--out", required=True, help="checkpoint path")
    p.add_argument("--track-json")
    p.set_defaults(func=run)
