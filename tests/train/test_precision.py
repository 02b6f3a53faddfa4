import pytest
import torch

from vipant.train.loop import TrainConfig
from vipant.train.precision import autocast

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def test_cpu_and_fp32_run_full_precision(tiny_encoder):
    encoder = tiny_encoder(200)
    with autocast("cpu"):
        assert encoder(torch.zeros(2, 200, 128)).dtype == torch.float32
    with autocast("cpu", precision="bf16"):  # the CUDA setting does not reach the CPU
        assert encoder(torch.zeros(2, 200, 128)).dtype == torch.float32
    if torch.cuda.is_available():
        with autocast("cuda", "fp32"):
            assert encoder.cuda()(torch.zeros(2, 200, 128, device="cuda")).dtype == torch.float32


def test_cpu_bf16_only_when_asked_and_weights_stay_fp32(tiny_encoder):
    torch.manual_seed(0)
    encoder = tiny_encoder(200)
    x = torch.randn(4, 200, 128)
    with autocast("cpu", cpu_precision="bf16"):
        out = encoder(x)
    assert out.dtype == torch.bfloat16
    out.float().square().sum().backward()
    for name, p in encoder.named_parameters():
        assert p.dtype == torch.float32, name
        assert p.grad is None or (p.grad.dtype == torch.float32 and torch.isfinite(p.grad).all()), name
    with torch.no_grad():
        full = encoder(x)
    assert torch.nn.functional.cosine_similarity(out.float(), full, dim=-1).min() > 0.99


def test_unknown_precision_is_an_error():
    with pytest.raises(ValueError, match="fp16"):
        autocast("cpu", cpu_precision="fp16")
    with pytest.raises(ValueError, match="fp16"):
        autocast("cuda", precision="fp16")


def test_train_config_defaults_keep_the_cpu_in_fp32():
    cfg = TrainConfig.from_dict({})
    assert (cfg.precision, cfg.cpu_precision) == ("bf16", "fp32")
    assert TrainConfig.from_dict({"cpu_precision": "bf16"}).cpu_precision == "bf16"


@cuda
def test_cuda_autocast_computes_in_bf16_and_keeps_fp32_weights(tiny_encoder):
    torch.manual_seed(0)
    encoder = tiny_encoder(200).cuda()
    x = torch.randn(4, 200, 128, device="cuda")
    with autocast("cuda", cpu_precision="fp32"):  # the CPU setting does not reach CUDA
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
