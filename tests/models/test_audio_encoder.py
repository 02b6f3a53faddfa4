import pytest
import torch

from vipant.models.audio_encoder import AudioEncoder, fit_pos_embed, grid_size, n_tokens, resize_pos_embed
from vipant.models.vt import build_clip

CFG = {
    "embed_dim": 32,
    "quick_gelu": True,
    "vision_cfg": {"image_size": 224, "layers": 2, "width": 64, "patch_size": 32},
    "text_cfg": {"context_length": 16, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 1},
}


@pytest.fixture(scope="module")
def clip():
    torch.manual_seed(0)
    return build_clip(CFG)


def test_token_count_for_1000x128_is_305_plus_cls(clip):
    assert grid_size(1000, 128) == (61, 5)
    assert n_tokens(1000, 128) == 306
    assert n_tokens() == 306  # the default input is the paper's 10 s x 128 bins
    enc = AudioEncoder(clip.visual)
    tokens, grid = enc.tokens(torch.randn(2, 1000, 128))
    assert grid == (61, 5) and tokens.shape == (2, 306, 64)
    assert enc(torch.randn(2, 1000, 128)).shape == (2, 32)


def test_clip_init_copies_every_transformer_weight(clip):
    enc = AudioEncoder(clip.visual, init="clip")
    ours = enc.transformer.state_dict()
    for name, value in clip.visual.transformer.state_dict().items():
        assert torch.equal(ours[name], value), name
    assert torch.equal(enc.proj, clip.visual.proj)
    assert torch.equal(enc.class_embedding, clip.visual.class_embedding)
    assert torch.equal(enc.ln_post.weight, clip.visual.ln_post.weight)
    # the encoder owns copies: training it never touches the frozen CLIP
    assert (
        enc.transformer.resblocks[0].mlp.c_fc.weight.data_ptr()
        != clip.visual.transformer.resblocks[0].mlp.c_fc.weight.data_ptr()
    )


@pytest.mark.parametrize("init", ["clip", "random"])
def test_every_weight_trains_when_built_from_a_frozen_vt(init):
    """The workflow builds g_A from the frozen VT (``load_vt`` turns gradients off): g_A must learn
    everything, the VT nothing. Before this test only the patch layer and positions trained."""
    from vipant.models.vt import freeze

    torch.manual_seed(0)
    vt = freeze(build_clip(CFG))
    enc = AudioEncoder(vt.visual, init=init)
    assert all(p.requires_grad for p in enc.parameters())
    assert not any(p.requires_grad for p in vt.parameters())
    enc(torch.randn(2, 1000, 128)).square().sum().backward()
    for name, p in enc.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name
    assert all(p.grad is None for p in vt.parameters())


def test_random_init_differs_but_keeps_architecture(clip):
    enc = AudioEncoder(clip.visual, init="random")
    w = enc.transformer.resblocks[0].attn.in_proj_weight
    assert w.shape == clip.visual.transformer.resblocks[0].attn.in_proj_weight.shape
    assert not torch.equal(w, clip.visual.transformer.resblocks[0].attn.in_proj_weight)


def test_random_init_follows_clips_scheme(clip):
    """VA-Rand's weights have CLIP's init scales (width 64, 2 blocks): ``64**-0.5`` for the class and positional
    embeddings, the projection and the attention input, ``64**-0.5 * (2 * 2)**-0.5`` for the residual outputs,
    ``(2 * 64)**-0.5`` for the MLP input; biases 0, LayerNorms reset. Catches a scale off by a power or a factor
    and a parameter left at ``normal_``'s std of 1."""
    torch.manual_seed(0)
    enc = AudioEncoder(clip.visual, init="random")
    scale, out_std, fc_std = 64**-0.5, 64**-0.5 * 4**-0.5, 128**-0.5
    expected = {"class_embedding": (scale, 0.3), "positional_embedding": (scale, 0.1), "proj": (scale, 0.1)}
    for i in range(2):
        block = f"transformer.resblocks.{i}."
        expected.update(
            {
                block + "attn.in_proj_weight": (scale, 0.1),
                block + "attn.out_proj.weight": (out_std, 0.1),
                block + "mlp.c_fc.weight": (fc_std, 0.1),
                block + "mlp.c_proj.weight": (out_std, 0.1),
            }
        )
    params = dict(enc.named_parameters())
    for name, (std, tolerance) in expected.items():
        assert params[name].std().item() == pytest.approx(std, rel=tolerance), name
    for i in range(2):
        block = enc.transformer.resblocks[i]
        for bias in (block.attn.in_proj_bias, block.attn.out_proj.bias, block.mlp.c_fc.bias, block.mlp.c_proj.bias):
            assert torch.count_nonzero(bias) == 0
    for norm in (m for m in enc.modules() if isinstance(m, torch.nn.LayerNorm)):
        assert torch.all(norm.weight == 1) and torch.all(norm.bias == 0)


def test_averaged_patch_weights_preserve_grey_images(clip):
    """CLIP's conv on a grey image (replicated to RGB) = 3 x the adapted conv on the 1-channel image."""
    enc = AudioEncoder(clip.visual)
    grey = torch.randn(1, 1, 224, 224)
    original = torch.nn.functional.conv2d(grey.repeat(1, 3, 1, 1), clip.visual.conv1.weight, stride=32)
    adapted = torch.nn.functional.conv2d(grey, enc.conv1.weight, stride=32)
    assert torch.allclose(original, 3 * adapted, atol=1e-5)
    assert enc.conv1.stride == (16, 24) and enc.conv1.kernel_size == (32, 32) and enc.conv1.in_channels == 1


def test_positional_grid_resized_keeping_cls(clip):
    enc = AudioEncoder(clip.visual)
    pos = clip.visual.positional_embedding
    assert enc.positional_embedding.shape == (306, 64)
    assert torch.equal(enc.positional_embedding[0], pos[0])
    # a constant grid stays constant under bilinear resizing
    const = torch.cat([torch.zeros(1, 4), torch.ones(49, 4)])
    assert torch.allclose(resize_pos_embed(const, (7, 7), (61, 5))[1:], torch.ones(305, 4))


def test_longer_input_resizes_positions_again(clip):
    enc = AudioEncoder(clip.visual)
    tokens, grid = enc.tokens(torch.randn(1, 1800, 128))
    assert grid == (111, 5) and tokens.shape == (1, 1 + 111 * 5, 64)
    assert enc(torch.randn(1, 1800, 128)).shape == (1, 32)


def test_shorter_input_takes_trained_rows_from_row_6_as_vip_ant_does():
    pos = torch.arange(1 + 61 * 5, dtype=torch.float32)[:, None].expand(-1, 3)  # row value = its index
    esc50 = fit_pos_embed(pos, (61, 5), grid_size(500, 128))  # 5 s: 30 x 5
    assert torch.equal(esc50[0], pos[0])
    assert torch.equal(esc50[1:], pos[1 + 6 * 5 : 1 + 36 * 5])
    # too long to start at row 6: the slice ends on the last trained row instead
    assert torch.equal(fit_pos_embed(pos, (61, 5), (58, 5))[1:], pos[1 + 3 * 5 :])
    assert fit_pos_embed(pos, (61, 5), (61, 5)) is pos
    # longer inputs and other frequency grids are resized, not sliced
    assert torch.equal(fit_pos_embed(pos, (61, 5), (111, 5)), resize_pos_embed(pos, (61, 5), (111, 5)))
    assert torch.equal(fit_pos_embed(pos, (61, 5), (30, 4)), resize_pos_embed(pos, (61, 5), (30, 4)))


def test_a_short_input_sees_only_its_slice_of_the_positions(clip):
    enc = AudioEncoder(clip.visual).eval()
    x = torch.randn(2, 500, 128)
    with torch.no_grad():
        before = enc(x)
        rows = enc.positional_embedding[1:].view(61, 5, -1)
        # (random, not constant, changes: ln_pre would remove a constant shift of a token)
        rows[:6] += torch.randn_like(rows[:6])  # rows outside 6..35 do not reach a 30-row input
        rows[36:] += torch.randn_like(rows[36:])
        assert torch.equal(enc(x), before)
        rows[6] += torch.randn_like(rows[6])
        assert not torch.allclose(enc(x), before)


def test_segments_come_from_one_pass(clip):
    enc = AudioEncoder(clip.visual).eval()
    x = torch.randn(3, 1000, 128)
    seg = enc.forward_segments(x, 4)
    assert seg.shape == (3, 4, 32)
    assert not torch.allclose(seg[:, 0], seg[:, 3])


def test_segments_pool_their_own_time_rows_and_more_segments_than_rows_stay_finite(clip):
    """A 200-frame input has 11 time rows: 11 segments are one row each (the row's patch tokens pooled), and 16
    segments repeat rows instead of pooling an empty slice. Catches a segment that takes 2 rows and a guard that
    lets an empty segment through (a NaN embedding)."""
    enc = AudioEncoder(clip.visual, frames=200).eval()
    x = torch.randn(2, 200, 128)
    with torch.no_grad():
        tokens, (h, w) = enc.encode_tokens(x)
        assert h == 11
        patches = tokens[:, 1:].reshape(2, h, w, -1)
        own_rows = enc.ln_post(patches.mean(dim=2)) @ enc.proj
        assert torch.allclose(enc.forward_segments(x, 11), own_rows, atol=1e-5)
        assert torch.isfinite(enc.forward_segments(x, 16)).all()


def test_unknown_init_rejected(clip):
    with pytest.raises(ValueError, match="init"):
        AudioEncoder(clip.visual, init="imagenet")


def test_patch_conv_runs_in_float32_under_cpu_bf16_autocast_and_the_transformer_in_bf16(clip):
    # oneDNN's bf16 weight gradient for this conv made half of a CPU training step; the guard must keep
    # the conv in float32 (same values as outside autocast) without taking the transformer out of bf16
    enc = AudioEncoder(clip.visual)
    seen = {}
    enc.conv1.register_forward_hook(lambda m, i, out: seen.__setitem__("conv", out))
    enc.transformer.resblocks[0].mlp.c_fc.register_forward_hook(lambda m, i, out: seen.__setitem__("fc", out.dtype))
    fbank = torch.randn(2, 1000, 128)
    with torch.no_grad():
        reference = enc.conv1(fbank.unsqueeze(1))
        with torch.autocast("cpu", dtype=torch.bfloat16):
            enc(fbank)
    assert seen["conv"].dtype == torch.float32
    torch.testing.assert_close(seen["conv"], reference, rtol=0, atol=0)
    assert seen["fc"] == torch.bfloat16
