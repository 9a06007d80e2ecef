"""The StyleGAN2 losses as pure functions, against closed forms, and the four phases on tiny networks."""

from __future__ import annotations

import math

import pytest
import torch

from stylegan.testing import tiny_discriminator, tiny_generator
from stylegan.train.losses import (
    LossSettings,
    StyleGAN2Loss,
    d_logistic_loss_fake,
    d_logistic_loss_real,
    g_nonsaturating_loss,
    lazy_regularization_correction,
    mix_ws,
    path_length_noise,
    path_length_penalty,
    path_lengths,
    r1_penalty,
    sample_mixing_cutoff,
)

pytestmark = pytest.mark.usefixtures("one_thread")


def test_logistic_losses_match_their_definitions() -> None:
    x = torch.linspace(-5, 5, 11)[:, None]
    torch.testing.assert_close(g_nonsaturating_loss(x), -torch.log(torch.sigmoid(x)))
    torch.testing.assert_close(d_logistic_loss_fake(x), -torch.log(1 - torch.sigmoid(x)))
    torch.testing.assert_close(d_logistic_loss_real(x), -torch.log(torch.sigmoid(x)))
    assert torch.isfinite(g_nonsaturating_loss(torch.tensor([[-1000.0]]))).all()  # softplus never overflows


def test_r1_penalty_of_a_linear_critic_is_its_squared_slope() -> None:
    a = torch.randn(1, 3, 4, 4)
    x = torch.randn(5, 3, 4, 4, requires_grad=True)
    logits = (x * a).sum(dim=[1, 2, 3])[:, None]
    torch.testing.assert_close(r1_penalty(x, logits), a.square().sum().expand(5))


def test_r1_double_backward_is_finite_on_a_real_discriminator() -> None:
    D = tiny_discriminator().train()
    x = torch.randn(4, 3, 16, 16, requires_grad=True)
    r1_penalty(x, D(x)).mean().backward()
    grads = [p.grad for p in D.parameters() if p.grad is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads)


def test_path_lengths_of_a_linear_generator() -> None:
    """img = sum_l ws[:, l] @ A_l, so J^T y per layer is A_l y and the length is sqrt(mean_l |A_l y|²)."""
    n, L, w_dim, res = 3, 4, 5, 2
    A = torch.randn(L, w_dim, 3 * res * res)
    ws = torch.randn(n, L, w_dim, requires_grad=True)
    img = torch.einsum("nlw,lwp->np", ws, A).reshape(n, 3, res, res)
    y = path_length_noise(img, torch.Generator().manual_seed(0))
    assert y.shape == img.shape and abs(float(y.std()) * math.sqrt(res * res) - 1) < 0.8
    expected = torch.einsum("lwp,np->nlw", A, y.reshape(n, -1)).square().sum(2).mean(1).sqrt()
    torch.testing.assert_close(path_lengths(img, ws, y), expected)


def test_path_length_penalty_uses_the_updated_running_mean() -> None:
    lengths = torch.tensor([1.0, 3.0])
    penalty, mean = path_length_penalty(lengths, torch.tensor(0.0), decay=0.01)
    torch.testing.assert_close(mean, torch.tensor(0.02))
    torch.testing.assert_close(penalty, (lengths - 0.02).square())


def test_style_mixing_cutoff_distribution_and_mix() -> None:
    g = torch.Generator().manual_seed(0)
    cuts = [sample_mixing_cutoff(10, 0.9, g) for _ in range(2000)]
    assert 0.87 < sum(c < 10 for c in cuts) / len(cuts) < 0.93
    assert set(c for c in cuts if c < 10) == set(range(1, 10))
    assert sample_mixing_cutoff(10, 0.0, g) == 10
    a, b = torch.zeros(2, 10, 3), torch.ones(2, 10, 3)
    m = mix_ws(a, b, 4)
    assert m[:, :4].sum() == 0 and bool((m[:, 4:] == 1).all())
    assert mix_ws(a, b, 10) is a


def test_lazy_regularization_correction() -> None:
    assert lazy_regularization_correction(16) == 16 / 17
    assert lazy_regularization_correction(4) == 0.8
    assert lazy_regularization_correction(None) == 1.0


@pytest.mark.parametrize("phase", ["Gmain", "Greg", "Dmain", "Dreg", "Gboth", "Dboth"])
def test_every_phase_gives_finite_grads_on_the_right_network(phase: str) -> None:
    G, D = tiny_generator().train(), tiny_discriminator().train()
    loss = StyleGAN2Loss(G, D, LossSettings(r1_gamma=1.0), generator=torch.Generator().manual_seed(1))
    trained = G if phase.startswith("G") else D
    G.requires_grad_(trained is G)
    D.requires_grad_(trained is D)
    w_avg = G.mapping.w_avg.clone()
    real = torch.randn(4, 3, 16, 16)
    stats = loss.accumulate_gradients(phase, real, None, torch.randn(4, G.z_dim), None, gain=2.0)  # type: ignore[arg-type]
    assert stats and all(torch.isfinite(v).all() for v in stats.values())
    grads = [p.grad for p in trained.parameters() if p.grad is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads)
    other = D if trained is G else G
    assert all(p.grad is None for p in other.parameters())
    if phase in ("Greg", "Gboth"):
        assert float(loss.pl_mean) > 0
    assert torch.equal(G.mapping.w_avg, w_avg) != (phase in ("Dmain", "Dboth"))  # w_avg tracks in the D pass


@pytest.mark.parametrize("phase", ["Gmain", "Greg", "Dmain", "Dreg"])
def test_bf16_phases_are_close_to_fp32_and_keep_fp32_weights(phase: str) -> None:
    """bfloat16 autocast: the same statistics as float32 within bfloat16's precision (but not bitwise: autocast is
    really on), float32 gradients on float32 weights, and nothing non-finite."""
    results = {}
    for precision in ("fp32", "bf16"):
        torch.manual_seed(0)
        G, D = tiny_generator(seed=1).train(), tiny_discriminator(seed=2).train()
        loss = StyleGAN2Loss(
            G, D, LossSettings(r1_gamma=1.0), generator=torch.Generator().manual_seed(1), precision=precision
        )  # type: ignore[arg-type]
        trained = G if phase.startswith("G") else D
        trained.requires_grad_(True)
        real = torch.randn(4, 3, 16, 16, generator=torch.Generator().manual_seed(3))
        z = torch.randn(4, G.z_dim, generator=torch.Generator().manual_seed(4))
        stats = loss.accumulate_gradients(phase, real, None, z, None)  # type: ignore[arg-type]
        grads = [p.grad for p in trained.parameters() if p.grad is not None]
        assert grads and all(g.dtype == torch.float32 and torch.isfinite(g).all() for g in grads)
        assert all(p.dtype == torch.float32 for p in trained.parameters())
        assert all(v.dtype == torch.float32 for v in stats.values())
        results[precision] = stats
    for key, ref in results["fp32"].items():
        got = results["bf16"][key]
        scale = float(ref.abs().max()) + 1e-3
        assert float((got - ref).abs().max()) <= 0.05 * scale, (key, got, ref)
    assert any(not torch.equal(results["bf16"][k], v) for k, v in results["fp32"].items())


def test_precision_is_checked() -> None:
    with pytest.raises(ValueError, match="precision"):
        StyleGAN2Loss(tiny_generator(), tiny_discriminator(), LossSettings(), precision="fp8")  # type: ignore[arg-type]


def test_conditional_phase_runs() -> None:
    G, D = tiny_generator(c_dim=3).train(), tiny_discriminator(c_dim=3).train()
    loss = StyleGAN2Loss(G, D, LossSettings())
    c = torch.eye(3)[[0, 1, 2, 0]]
    D.requires_grad_(False)
    stats = loss.accumulate_gradients("Gmain", torch.randn(4, 3, 16, 16), c, torch.randn(4, G.z_dim), c)
    assert stats["Loss/G/loss"].shape == (4,)
