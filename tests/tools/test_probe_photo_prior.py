"""tools/probe_photo_prior.py: a photograph-trained network's stage features on FBANK pictures, against the
same network with scrambled weights."""

import importlib.util
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

_spec = importlib.util.spec_from_file_location(
    "probe_photo_prior", Path(__file__).resolve().parents[2] / "tools" / "probe_photo_prior.py"
)
probe = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(probe)


def _net(seed: int = 0) -> onnx.ModelProto:
    """Conv /2 -> Relu -> Conv /2 -> Conv (same size) -> Resize x2 -> Conv: a 3-stage backbone, then a decoder.
    The first conv's weight is an initialiser and its bias a Constant node; the Resize scales are an
    initialiser that is no Conv's."""
    rng = np.random.default_rng(seed)
    init = lambda name, *shape: numpy_helper.from_array(rng.normal(size=shape).astype(np.float32), name)  # noqa: E731
    conv = lambda x, w, b, y, stride: helper.make_node(  # noqa: E731
        "Conv", [x, w, b], [y], kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[stride, stride]
    )
    nodes = [
        helper.make_node("Constant", [], ["b0"], value=init("b0v", 4)),
        conv("x", "w0", "b0", "c0", 2),
        helper.make_node("Relu", ["c0"], ["r0"]),
        conv("r0", "w1", "b1", "c1", 2),
        conv("c1", "w2", "b2", "c2", 1),
        helper.make_node("Resize", ["c2", "", "scales"], ["up"], mode="nearest"),
        conv("up", "w3", "b3", "c3", 1),
    ]
    inits = [init("w0", 4, 3, 3, 3), init("w1", 4, 4, 3, 3), init("b1", 4), init("w2", 4, 4, 3, 3), init("b2", 4)]
    inits += [init("w3", 2, 4, 3, 3), init("b3", 2)]
    inits.append(numpy_helper.from_array(np.array([1, 1, 2, 2], dtype=np.float32), "scales"))
    graph = helper.make_graph(
        nodes,
        "tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["b", 3, "h", "w"])],
        [helper.make_tensor_value_info("c3", TensorProto.FLOAT, None)],
        inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_stage_ends_are_the_last_map_of_each_size_until_the_first_upsampling():
    sizes = [("a", (64, 64)), ("b", (32, 32)), ("se", (1, 1)), ("c", (32, 32)), ("d", (16, 16)), ("e", (32, 32))]
    sizes.append(("f", (16, 16)))
    assert probe.stage_ends(sizes) == ["a", "c", "d"]


def test_the_feature_net_taps_the_backbone_stages_and_not_the_decoder():
    net = probe.FeatureNet(_net(), (32, 64))
    assert net.taps == ["c0", "c2"]
    maps = net(np.zeros((2, 3, 32, 64), dtype=np.float32))
    assert [m.shape for m in maps] == [(2, 4, 16, 32), (2, 4, 8, 16)]


def test_scrambling_permutes_each_conv_tensor_within_itself_and_nothing_else():
    model = _net()
    before = {t.name: numpy_helper.to_array(t).copy() for t in model.graph.initializer}
    bias0 = numpy_helper.to_array(model.graph.node[0].attribute[0].t).copy()
    out = probe.scrambled(model, seed=0)
    after = {t.name: numpy_helper.to_array(t) for t in out.graph.initializer}
    for name in ("w0", "w1", "b1", "w2", "b2", "w3", "b3"):
        assert after[name].shape == before[name].shape
        assert np.array_equal(np.sort(after[name].ravel()), np.sort(before[name].ravel())), name
        assert not np.array_equal(after[name], before[name]), name
    new_bias0 = numpy_helper.to_array(out.graph.node[0].attribute[0].t)
    assert np.array_equal(np.sort(new_bias0), np.sort(bias0)) and not np.array_equal(new_bias0, bias0)
    assert np.array_equal(after["scales"], before["scales"])
    # the original is untouched
    assert all(np.array_equal(numpy_helper.to_array(t), before[t.name]) for t in model.graph.initializer)


def test_pooling_reads_only_the_columns_of_real_frames():
    m = np.full((2, 1, 2, 4), 100.0)  # a stride-16 map of 64-pixel-wide pictures
    m[0, :, :, 0] = 1.0  # picture 0: 16 real pixel columns -> map column 0
    m[1, :, :, :3] = 2.0  # picture 1: 33 real pixel columns -> map columns 0..2
    m[1, :, 1, :3] = 4.0
    (out,) = probe.pooled([m], np.array([16, 33]), 64)
    assert out.tolist() == [[1.0, 0.0], [3.0, 1.0]]  # per channel: mean, then deviation


def test_the_fbank_picture_has_time_across_and_the_lowest_bin_at_the_bottom():
    z = np.zeros((40, 8), dtype=np.float32)
    z[5, :] = 1.0  # frame 5 loud in every bin
    z[:, 0] = 2.0  # the lowest bin loud in every frame
    pic = probe.fbank_picture(z)
    assert pic.shape == (3, 8, 64)  # 40 frames padded to a multiple of 32
    grey = pic[0] - probe.GREY_MEAN
    assert np.allclose(grey[-1, :40], probe.GREY_STD * 2.0)  # bottom row: bin 0
    assert np.allclose(grey[:-1, 5], probe.GREY_STD * 1.0)  # column 5: frame 5
    assert np.allclose(grey[:-1, 6], 0.0)
    assert np.array_equal(pic[0], pic[2])
