"""Design probe of the synthetic world: does its audio carry structure that filters learnt from photographs
pick out?

OpenAI's CLIP helps g_A because filters learnt from photographs (edges, oriented lines, textures) also
describe spectrograms. This probe asks whether the world's FBANK has that property, apart from any VT: a
network trained on real photographs (an ONNX file; its convolutions are all it needs) reads each VA
training clip's FBANK as a grey picture (frequency as height, low at the bottom). The feature maps that
end each backbone stage are pooled (per-channel mean and deviation) over the clip's real frames
(padding excluded) and scored by ``tools/probe_sources.py``'s out-of-fold source probe, each stage alone
and all together. The control is the same network with every Conv's weight and bias values permuted
within their tensor: the same magnitudes and architecture, no learnt structure. The same two readings on
each clip's evaluation frame check that the probe can see a photograph prior where one should help. It
reads a built work dir and sees no test table.

    python tools/probe_photo_prior.py data/synthetic --onnx 320n.onnx
    python tools/probe_photo_prior.py data/synthetic --onnx det.onnx --pixel-mean 0.485 0.456 0.406 --pixel-std 0.229 0.224 0.225
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import math
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pandas as pd
import yaml
from onnx import numpy_helper
from PIL import Image

from vipant.features.frames import read_frames_manifest, split_frame_paths
from vipant.features.store import FbankStats, FbankStore

log = logging.getLogger("probe_photo_prior")
STRIDE = 32  # backbones downsample by up to 32: inputs are padded to a multiple of it
GREY_MEAN, GREY_STD = 0.45, 0.25  # a photograph's grey level in [0, 1]: where the normalised FBANK is put


def _sibling(name: str):
    """Another script of tools/ as a module (tools/ is not a package)."""
    spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name(f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ps = _sibling("probe_sources")


def conv_outputs(model: onnx.ModelProto) -> list[str]:
    """The output tensor of every Conv node, in graph order."""
    return [n.output[0] for n in model.graph.node if n.op_type == "Conv"]


def stage_ends(sizes: list[tuple[str, tuple[int, int]]]) -> list[str]:
    """From ``(tensor, (h, w))`` in graph order, the last tensor at each spatial size while the size only
    shrinks: the end of each backbone stage. Reading stops at the first map larger than the one before it
    (a decoder or feature pyramid starts there); 1 x 1 maps (squeeze-and-excitation branches inside a
    stage) are passed over."""
    ends: list[str] = []
    last_size = None
    for name, size in sizes:
        if tuple(size) == (1, 1):
            continue
        if last_size is not None and (size[0] > last_size[0] or size[1] > last_size[1]):
            break
        if size == last_size:
            ends[-1] = name
        else:
            ends.append(name)
        last_size = size
    return ends


def scrambled(model: onnx.ModelProto, seed: int = 0) -> onnx.ModelProto:
    """A copy whose Conv weights and biases have their values permuted within each tensor (initialisers
    or Constant nodes alike)."""
    out = onnx.ModelProto()
    out.CopyFrom(model)
    rng = np.random.default_rng(seed)
    convs = [n for n in out.graph.node if n.op_type == "Conv"]
    params = {n.input[i] for n in convs for i in (1, 2) if i < len(n.input) and n.input[i]}  # "": no bias

    def permute(tensor: onnx.TensorProto) -> None:
        a = numpy_helper.to_array(tensor)
        tensor.CopyFrom(numpy_helper.from_array(rng.permutation(a.ravel()).reshape(a.shape), tensor.name))

    found = set()
    for init in out.graph.initializer:
        if init.name in params:
            permute(init)
            found.add(init.name)
    for node in out.graph.node:
        if node.op_type == "Constant" and node.output[0] in params:
            for attr in node.attribute:
                if attr.name == "value":
                    permute(attr.t)
                    found.add(node.output[0])
    if missing := params - found:
        raise ValueError(f"Conv parameters neither initialisers nor constants: {sorted(missing)[:3]}")
    return out


class FeatureNet:
    """An ONNX network that returns, for a batch ``[B, 3, H, W]``, the maps that end its backbone stages."""

    def __init__(self, model: onnx.ModelProto, probe_size: tuple[int, int]):
        convs = conv_outputs(model)
        session = self._session(model, convs)
        dummy = np.zeros((1, 3, *probe_size), dtype=np.float32)
        maps = session.run(convs, {self.input_name: dummy})
        self.taps = stage_ends([(n, m.shape[2:]) for n, m in zip(convs, maps, strict=True)])
        self.session = self._session(model, self.taps)

    def _session(self, model: onnx.ModelProto, outputs: list[str]) -> ort.InferenceSession:
        m = onnx.ModelProto()
        m.CopyFrom(model)
        known = {o.name for o in m.graph.output}
        m.graph.output.extend(
            onnx.helper.make_tensor_value_info(t, onnx.TensorProto.FLOAT, None) for t in outputs if t not in known
        )
        self.input_name = m.graph.input[0].name
        opts = ort.SessionOptions()
        opts.log_severity_level = 3
        # no busy-waiting between ops: the probe shares 2 cores with torch jobs
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        return ort.InferenceSession(m.SerializeToString(), opts, providers=["CPUExecutionProvider"])

    def __call__(self, images: np.ndarray) -> list[np.ndarray]:
        return self.session.run(self.taps, {self.input_name: images.astype(np.float32)})


def pooled(maps: list[np.ndarray], real_width: np.ndarray, width: int) -> list[np.ndarray]:
    """Each ``[B, C, h, w]`` map's per-channel mean and standard deviation over its rows and the columns that
    cover image ``b``'s first ``real_width[b]`` pixel columns (``width`` in all): ``[B, 2C]`` per map,
    padding excluded. The deviation keeps what a mean of a linear map loses (a filter's response energy)."""
    out = []
    for m in maps:
        cols = np.maximum(1, np.ceil(real_width * m.shape[3] / width).astype(int))
        region = [m[b, :, :, : cols[b]] for b in range(len(m))]
        out.append(np.stack([np.concatenate([r.mean(axis=(1, 2)), r.std(axis=(1, 2))]) for r in region]))
    return out


def fbank_picture(z: np.ndarray) -> np.ndarray:
    """Normalised FBANK ``[T, bins]`` as a grey ``[3, bins, T']`` picture in [0, 1] units: frequency as
    height with the lowest bin at the bottom, time padded (with the padding's own value) to a multiple of
    :data:`STRIDE`."""
    t = math.ceil(z.shape[0] / STRIDE) * STRIDE
    x = np.pad(z, ((0, t - z.shape[0]), (0, 0)), mode="edge")
    grey = GREY_MEAN + GREY_STD * x.T[::-1]
    return np.repeat(grey[None], 3, axis=0)


def frame_picture(path: Path, size: int) -> np.ndarray:
    """A video frame as a ``[3, size, size]`` RGB picture in [0, 1]."""
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB").resize((size, size)), dtype=np.float32).transpose(2, 0, 1) / 255


def normalise(images: np.ndarray, mean: list[float], std: list[float]) -> np.ndarray:
    """[0, 1] pixels to the network's input scale, channel by channel."""
    return (images - np.asarray(mean)[None, :, None, None]) / np.asarray(std)[None, :, None, None]


def readings(features: list[np.ndarray], y: np.ndarray) -> dict[str, float]:
    """Out-of-fold source probe mAP of each stage and of all stages together."""
    out = {f"stage{i}": ps.cross_validated_probe(f, y)["mAP"] for i, f in enumerate(features)}
    out["all"] = ps.cross_validated_probe(np.concatenate(features, axis=1), y)["mAP"]
    return out


def _frames(work_dir: Path, clip_ids: list[str]) -> dict[str, Path]:
    """The frame evaluation uses (the 2nd) of each clip whose frames were extracted, from the manifests."""
    wanted = set(clip_ids)
    out = {}
    for manifest in sorted((work_dir / "frames").glob("shard-*.csv")):
        for row in read_frames_manifest(manifest).itertuples():
            paths = split_frame_paths(row.frame_paths)
            if row.clip_id in wanted and row.status == "ok" and len(paths) > 1:
                out[row.clip_id] = Path(paths[1])
    return out


def network_arguments(ap: argparse.ArgumentParser) -> None:
    """The photograph-trained network's file and input scale, and the config (shared with the distillation)."""
    ap.add_argument("--onnx", type=Path, required=True, help="a network trained on photographs (ONNX)")
    ap.add_argument("--pixel-mean", type=float, nargs=3, default=[0.0, 0.0, 0.0], help="the network's input mean")
    ap.add_argument("--pixel-std", type=float, nargs=3, default=[1.0, 1.0, 1.0], help="the network's input std")
    ap.add_argument("--config", default="config.yaml")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("work_dir", type=Path)
    network_arguments(ap)
    ap.add_argument("--frame-size", type=int, default=224, help="video frames are resized to this square")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--seed", type=int, default=0, help="the control's permutation")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    va = yaml.safe_load(Path(args.config).read_text())["presets"]["synthetic"]["va"]
    w = args.work_dir
    length = va["frames_length"]
    store = FbankStore(w / "fbank/audioset/index.csv", FbankStats.load(w / "fbank/stats.json"), length=length)
    clips = [c for c in pd.read_csv(w / "meta/va_train.csv", dtype=str)["clip_id"] if c in store]
    frames = _frames(w, clips)
    clips = [c for c in clips if c in frames]
    truth, mids = ps.world_truth(w)
    y = ps.labels(truth, clips, mids)
    model = onnx.load(args.onnx)
    width = math.ceil(length / STRIDE) * STRIDE
    real = np.array([min(store.n_frames(c), length) for c in clips])
    result: dict[str, dict] = {"clips": len(clips), "sources_present": int((y.sum(0) > 0).sum())}
    nets = {"pretrained": model, "scrambled": scrambled(model, args.seed)}
    nets = {name: FeatureNet(weights, (128, width)) for name, weights in nets.items()}
    fb: dict[str, list] = {name: [] for name in nets}
    fr: dict[str, list] = {name: [] for name in nets}
    for i in range(0, len(clips), args.batch):  # each picture is read once and shown to both weight sets
        part = clips[i : i + args.batch]
        pics = normalise(np.stack([fbank_picture(store.get(c).numpy()) for c in part]), args.pixel_mean, args.pixel_std)
        imgs = np.stack([frame_picture(frames[c], args.frame_size) for c in part])
        imgs = normalise(imgs, args.pixel_mean, args.pixel_std)
        for name, net in nets.items():
            fb[name].append(pooled(net(pics), real[i : i + len(part)], width))
            fr[name].append(pooled(net(imgs), np.full(len(part), args.frame_size), args.frame_size))
        log.info("%d / %d clips", i + len(part), len(clips))
    stack = lambda parts: [np.concatenate(s) for s in zip(*parts, strict=True)]  # noqa: E731
    for name, net in nets.items():
        result[name] = {"fbank": readings(stack(fb[name]), y), "frames": readings(stack(fr[name]), y), "taps": net.taps}
        print(name, json.dumps(result[name]), flush=True)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
