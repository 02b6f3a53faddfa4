import pytest
import torch

from vipant.train.precision import autocast


cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def test_cpu_and_fp32_run_full_precision(tiny_encoder):
    encoder = tiny_encoder(200)
    with autocast("cpu"):
        assert encoder(torch.zeros(2, 200, 128)).dtype == torch.float32
    if torch.cuda.is_available():
        with autocast("cuda", "fp32"):
            assert encoder.cuda()(torch.zeros(2, 200, 128, device="cuda")).dtype == torch.float32


@cuda
def test_cuda_autocast_computes_in_bf16_and_keeps_fp32_weights(tiny_encoder):
    torch.manual_seed(0)
    encoder = tiny_encoder(200).cuda()
    x = torch.randn(4, 200, 128, device="cuda")
    with autocast("cuda"):
        out = encoder(x)
    assert out.dtype == torch.bfloat16
    out.float().square().sum().backward()
    for name, p in encoder.named_parameters():
        assert p.dtype == torch.float32, name  # master weights stay fp32; no loss scaling is needed for bf16
        assert p.grad is None or (p.grad.dtype == torch.float32 and torch.isfinite(p.grad).all()), name
    with torch.no_grad():
        full = encoder(x)
    # bf16 keeps ~3 significant digits: the same embeddings up to rounding
    assert torch.nn.functional.cosine_similarity(out.float(), full, dim=-1).min() > 0.99
