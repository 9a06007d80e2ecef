"""StyleGAN2 losses as small pure functions (StyleGAN2 §4 and Appendix B), and `StyleGAN2Loss`, which composes
them into NVIDIA's four training phases: Gmain, Greg (path length), Dmain, Dreg (R1).

Conventions: logits are D's raw outputs [N, 1]; every loss returns one value per sample, the caller averages.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import torch
import torch.nn.functional as F
from torch import Tensor

from ..compiling import Compiler, warn_once
from ..infocodes import InfoCodes, info_loss
from ..precision import PRECISIONS, Precision, autocast

if TYPE_CHECKING:
    from ..networks import AnyDiscriminator, Generator

Phase = Literal["Gmain", "Greg", "Gboth", "Dmain", "Dreg", "Dboth"]
LossKind = Literal["logistic", "wgan-gp"]
LOSS_KINDS: tuple[str, ...] = ("logistic", "wgan-gp")


# ---- pure losses -----------------------------------------------------------------------------------------------
def g_nonsaturating_loss(fake_logits: Tensor) -> Tensor:
    """Non-saturating generator loss -log(sigmoid(D(G(z)))) = softplus(-D(G(z))) (Goodfellow et al. 2014)."""
    return F.softplus(-fake_logits)


def d_logistic_loss_fake(fake_logits: Tensor) -> Tensor:
    """Discriminator loss on generated images: -log(1 - sigmoid(D(G(z)))) = softplus(D(G(z)))."""
    return F.softplus(fake_logits)


def d_logistic_loss_real(real_logits: Tensor) -> Tensor:
    """Discriminator loss on real images: -log(sigmoid(D(x))) = softplus(-D(x))."""
    return F.softplus(-real_logits)


def r1_penalty(real_img: Tensor, real_logits: Tensor) -> Tensor:
    """R1 gradient penalty ||∇_x D(x)||² per sample (Mescheder et al. 2018). `real_img` must require grad and
    `real_logits` depend on it. The graph is kept (create_graph) so the penalty can be back-propagated to D.
    The R1 loss is `gamma / 2 * r1_penalty`."""
    (grad,) = torch.autograd.grad(real_logits.sum(), real_img, create_graph=True, only_inputs=True)
    return grad.square().sum(dim=[1, 2, 3])


def path_length_noise(fake_img: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """The random image-space direction y ~ N(0, I) / sqrt(H W) of the path length regulariser (StyleGAN2 Eq. 4)."""
    h, w = fake_img.shape[2], fake_img.shape[3]
    noise = torch.randn(fake_img.shape, generator=generator, device=generator.device if generator else "cpu")
    return noise.to(fake_img.device, fake_img.dtype) / math.sqrt(h * w)


def path_lengths(fake_img: Tensor, ws: Tensor, pl_noise: Tensor) -> Tensor:
    """||J_w^T y|| per sample, averaged over the ws layers as NVIDIA does: sqrt(mean_layers(sum_w grad²)).
    ws [N, num_ws, w_dim] must be in `fake_img`'s graph. The graph is kept for the penalty's backward pass."""
    (grad,) = torch.autograd.grad((fake_img * pl_noise).sum(), ws, create_graph=True, only_inputs=True)
    return grad.square().sum(dim=2).mean(dim=1).sqrt()


def path_length_penalty(lengths: Tensor, pl_mean: Tensor, decay: float = 0.01) -> tuple[Tensor, Tensor]:
    """(penalty per sample, updated pl_mean): a ← lerp(a, mean(lengths), decay); penalty = (lengths - a)²
    (StyleGAN2 Eq. 4, the running mean `a` as in NVIDIA's code, updated before it is used)."""
    new_mean = pl_mean.lerp(lengths.mean().detach(), decay)
    return (lengths - new_mean).square(), new_mean


def sample_mixing_cutoff(num_ws: int, prob: float, generator: torch.Generator | None = None) -> int:
    """Style-mixing regularisation (StyleGAN §3.1): with probability `prob`, a crossover layer uniform in
    {1, ..., num_ws - 1}; otherwise `num_ws` (no mixing). While a network grows progressively, `num_ws` is the
    number of layers drawn at the current level of detail (`mixing_layers`)."""
    if prob <= 0 or num_ws < 2:
        return num_ws
    mix = float(torch.rand([], generator=generator)) < prob
    cutoff = int(torch.randint(1, num_ws, [], generator=generator))
    return cutoff if mix else num_ws


def mixing_layers(num_ws: int, lod: float | None) -> int:
    """The layers style mixing picks its crossover among: all `num_ws`, or, at level of detail `lod` (progressive
    growing, StyleGAN's and StyleGAN2's rule), the num_ws - 2·floor(lod) layers that are drawn.

    >>> mixing_layers(18, None), mixing_layers(18, 2.5), mixing_layers(18, 0.0)
    (18, 14, 18)
    """
    return num_ws if lod is None else num_ws - 2 * int(lod)


def wgan_gradient_penalty(mixed_img: Tensor, mixed_logits: Tensor, target: float = 1.0) -> Tensor:
    """WGAN-GP's penalty (||∇_x D(x)|| - target)² per sample, at the mixtures x of real and fake images that
    produced `mixed_logits` (Gulrajani et al. 2017). The graph is kept for the backward pass to D."""
    (grad,) = torch.autograd.grad(mixed_logits.sum(), mixed_img, create_graph=True, only_inputs=True)
    return (grad.square().sum(dim=[1, 2, 3]).sqrt() - target).square()


def mix_ws(ws: Tensor, ws_other: Tensor, cutoff: int) -> Tensor:
    """Layers < cutoff from `ws`, layers >= cutoff from `ws_other` (both [N, num_ws, w_dim])."""
    if cutoff >= ws.shape[1]:
        return ws
    return torch.cat([ws[:, :cutoff], ws_other[:, cutoff:]], dim=1)


def lazy_regularization_correction(interval: int | None) -> float:
    """c = I / (I + 1) for lazy regularisation every I steps (StyleGAN2 §3.1): the optimiser runs with lr·c and
    betas**c so that main + regularisation steps together act like one step per minibatch; 1 when not lazy."""
    return 1.0 if not interval else interval / (interval + 1)


# ---- composition -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LossSettings:
    """Loss hyper-parameters (the defaults of StyleGAN2-ADA's train.py). `kind` "logistic" is the non-saturating
    logistic loss with R1 (`r1_gamma`); "wgan-gp" is Progressive GAN's WGAN-GP: Wasserstein losses, the gradient
    penalty (`wgan_lambda`, towards norm `wgan_target`) on random mixtures of real and fake images, and the drift
    penalty `wgan_epsilon` D(x)²."""

    r1_gamma: float = 10.0
    pl_weight: float = 2.0
    pl_decay: float = 0.01
    pl_batch_shrink: int = 2
    style_mixing_prob: float = 0.9
    kind: LossKind = "logistic"
    wgan_lambda: float = 10.0
    wgan_epsilon: float = 0.001
    wgan_target: float = 1.0

    def __post_init__(self) -> None:
        if self.kind not in LOSS_KINDS:
            raise ValueError(f"loss kind must be one of {', '.join(LOSS_KINDS)}, got {self.kind!r}")
        if not (isinstance(self.wgan_target, (int, float)) and self.wgan_target > 0):
            raise ValueError(f"wgan_target must be > 0, got {self.wgan_target!r}")


class StyleGAN2Loss:
    """The four phases of NVIDIA's StyleGAN2 training, built from the pure functions above.

    `accumulate_gradients(phase, ...)` runs one phase on one micro-batch, calls backward() with the given gain
    (the lazy-regularisation interval for Greg/Dreg) and returns detached per-sample statistics. Randomness
    (the mixing latents, the crossover layer, the path-length noise) comes from `generator`; the synthesis
    noise uses torch's global RNG.

    `precision="bf16"` runs the synthesis network and D under bfloat16 autocast (convolutions and matrix products
    in bfloat16, which CPUs with AMX and recent GPUs run several times faster), while the weights, the optimiser,
    the mapping network, the augmentation, the losses and the regularisers' gradient norms stay float32.

    With `info` (Info-StyleGAN), G's labels end with the latent codes and D sees only the labels before them; the
    Q loss λ·(cross-entropy + Gaussian NLL) of D's Q head on the generated images is added to G's main loss (G
    learns to make the codes recognisable) and to D's loss on fakes (Q learns to recognise them), as InfoGAN does.

    `compile=True` runs G's synthesis network and D through `torch.compile` (`stylegan.compiling`: a failure is told
    through `warn` and they run uncompiled) wherever no second-order gradient is taken: the main losses. The path
    length and R1 / gradient penalties differentiate through a gradient, which compiled graphs do not support, so
    they run the modules themselves.
    """

    def __init__(
        self,
        G: Generator,
        D: AnyDiscriminator,
        settings: LossSettings,
        *,
        augment: Callable[[Tensor], Tensor] | None = None,
        generator: torch.Generator | None = None,
        precision: Precision = "fp32",
        info: InfoCodes | None = None,
        compile: bool = False,
        warn: Callable[[str], None] = warn_once,
    ) -> None:
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
        self.precision = precision
        self.G = G
        self.D = D
        # First-order passes (possibly compiled) and the modules themselves for the second-order ones.
        compiler = Compiler(enabled=compile, warn=warn)
        self.fast_synthesis = compiler.compile(G.synthesis, "G's synthesis network")
        self.fast_D = compiler.compile(D, "D")
        q_pass = getattr(D, "forward_with_q", D)  # (logits, Q predictions): a StyleGAN2 D with a Q head
        self.fast_D_q = compiler.compile(q_pass, "D with its Q head") if info is not None else q_pass
        self.s = settings
        self.augment = augment
        self.generator = generator
        self.info = info
        if info is not None and getattr(D, "q_dim", 0) != info.dim:
            raise ValueError(f"the info codes need a D with a Q head of {info.dim} outputs")
        device = next(G.parameters()).device
        self.pl_mean = torch.zeros([], device=device)

    def _randn(self, shape: list[int], device: torch.device) -> Tensor:
        gen = self.generator
        return torch.randn(shape, generator=gen, device=gen.device if gen else "cpu").to(device)

    def _autocast(self, device: torch.device) -> torch.autocast:
        """The networks' forward precision: bfloat16 autocast for precision "bf16", a no-op otherwise."""
        return autocast(device, self.precision)

    def run_G(
        self, z: Tensor, c: Tensor | None, *, update_emas: bool = False, second_order: bool = False
    ) -> tuple[Tensor, Tensor]:
        """(images, ws) with style mixing against a second random latent; both float32. While a StyleGAN (v1)
        network grows, the crossover is drawn among the layers in use (`mixing_layers`). `second_order`: a gradient
        of the images will be differentiated (path length), so the uncompiled module runs."""
        G = self.G
        ws = G.mapping(z, c, update_emas=update_emas)  # float32: tiny, and w_avg / truncation live here
        lod = getattr(G.synthesis, "lod", None)  # networks that grow progressively only
        layers = mixing_layers(ws.shape[1], None if lod is None else float(lod))
        cutoff = sample_mixing_cutoff(layers, self.s.style_mixing_prob, self.generator)
        if cutoff < layers:
            ws_other = G.mapping(self._randn(list(z.shape), z.device), c, update_emas=False)
            ws = mix_ws(ws, ws_other, cutoff)
        synthesis = G.synthesis if second_order else self.fast_synthesis
        with self._autocast(z.device):
            img = synthesis(ws)
        return img.float(), ws

    def run_D(self, img: Tensor, c: Tensor | None, *, second_order: bool = False) -> Tensor:
        """D logits (float32), on augmented images when an augmentation pipe is set. `second_order`: a gradient of
        the logits will be differentiated (R1, gradient penalty), so the uncompiled module runs."""
        if self.augment is not None:
            img = self.augment(img)
        D = self.D if second_order else self.fast_D
        with self._autocast(img.device):
            logits = D(img, c)
        return logits.float()

    def run_D_info(self, img: Tensor, c: Tensor | None) -> tuple[Tensor, Tensor]:
        """(D logits, Q head predictions), both float32, from one pass (augmented images when a pipe is set)."""
        if self.augment is not None:
            img = self.augment(img)
        from ..networks import Discriminator

        assert isinstance(self.D, Discriminator)  # a StyleGAN2 D with a Q head (checked when built)
        with self._autocast(img.device):
            logits, q = self.fast_D_q(img, c)
        return logits.float(), q.float()

    def _fake_scores(
        self, gen_img: Tensor, gen_c: Tensor | None, stats: dict[str, Tensor], who: str
    ) -> tuple[Tensor, Tensor]:
        """(D's logits on generated images [N, 1], the weighted Q loss per sample [N, 1], zeros without info codes);
        the Q loss's parts go to `stats` (D's phase: `Loss/info/*` and `Info/accuracy`; G's: `Loss/G/info`)."""
        if self.info is None:
            logits = self.run_D(gen_img, gen_c)
            return logits, torch.zeros_like(logits)
        assert gen_c is not None
        labels, codes = self.info.split(gen_c)
        logits, q = self.run_D_info(gen_img, labels)
        ce, nll, right = info_loss(q, codes, self.info)
        q_loss = (ce + nll)[:, None] * self.info.weight
        if who == "D":
            if self.info.cat:
                stats["Loss/info/cat"] = ce.detach()
                stats["Info/accuracy"] = right
            if self.info.cont:
                stats["Loss/info/cont"] = nll.detach()
        else:
            stats["Loss/G/info"] = q_loss.detach().flatten()
        return logits, q_loss

    def _d_labels(self, gen_c: Tensor | None) -> Tensor | None:
        """The part of G's labels that D sees (all of them without info codes)."""
        if self.info is None or gen_c is None:
            return gen_c
        return self.info.split(gen_c)[0]

    def accumulate_gradients(
        self,
        phase: Phase,
        real_img: Tensor,
        real_c: Tensor | None,
        gen_z: Tensor,
        gen_c: Tensor | None,
        gain: float = 1.0,
    ) -> dict[str, Tensor]:
        """Forward + backward of one phase on one micro-batch. Returns per-sample stats (detached)."""
        s = self.s
        if s.kind == "wgan-gp":
            return self._wgan_gp(phase, real_img, real_c, gen_z, gen_c, gain)
        stats: dict[str, Tensor] = {}
        do_Gmain = phase in ("Gmain", "Gboth")
        do_Dmain = phase in ("Dmain", "Dboth")
        do_Gpl = phase in ("Greg", "Gboth") and s.pl_weight != 0
        do_Dr1 = phase in ("Dreg", "Dboth") and s.r1_gamma != 0

        if do_Gmain:  # maximise log D(G(z)) (and, with info codes, make them recognisable)
            gen_img, _ = self.run_G(gen_z, gen_c, update_emas=self.G.version == 1)  # v1: w_avg in every G pass
            gen_logits, q_loss = self._fake_scores(gen_img, gen_c, stats, "G")
            loss = g_nonsaturating_loss(gen_logits)
            (loss + q_loss).mean().mul(gain).backward()
            stats["Loss/scores/fake"] = gen_logits.detach().flatten()
            stats["Loss/G/loss"] = loss.detach().flatten()

        if do_Gpl:  # path length regularisation on a smaller batch
            n = max(gen_z.shape[0] // s.pl_batch_shrink, 1)
            gen_img, gen_ws = self.run_G(gen_z[:n], gen_c[:n] if gen_c is not None else None, second_order=True)
            noise = path_length_noise(gen_img, self.generator)
            lengths = path_lengths(gen_img, gen_ws, noise)
            penalty, self.pl_mean = path_length_penalty(lengths, self.pl_mean, s.pl_decay)
            loss = penalty * s.pl_weight
            loss.mean().mul(gain).backward()
            stats["Loss/pl_penalty"] = penalty.detach()
            stats["Loss/G/reg"] = loss.detach()

        if do_Dmain or do_Dr1:  # D: fakes down (softplus(D(G(z)))), reals up (softplus(-D(x))), and/or R1
            real = real_img.detach().requires_grad_(do_Dr1)
            fake_term = None
            if do_Dmain:
                with torch.no_grad():
                    gen_img, _ = self.run_G(gen_z, gen_c, update_emas=True)
                gen_logits, q_loss = self._fake_scores(gen_img, gen_c, stats, "D")
                real_logits = self.run_D(real, real_c, second_order=do_Dr1)
                loss_fake = d_logistic_loss_fake(gen_logits)
                fake_term = (loss_fake + q_loss).mean()
                stats["Loss/scores/fake"] = gen_logits.detach().flatten()
            else:
                real_logits = self.run_D(real, real_c, second_order=True)
            total = torch.zeros_like(real_logits)
            if do_Dmain:
                loss_real = d_logistic_loss_real(real_logits)
                total = total + loss_real
                stats["Loss/scores/real"] = real_logits.detach().flatten()
                stats["Loss/signs/real"] = real_logits.detach().sign().flatten()
                stats["Loss/D/loss"] = (loss_fake + loss_real).detach().flatten()
            if do_Dr1:
                penalty = r1_penalty(real, real_logits)
                loss_r1 = penalty[:, None] * (s.r1_gamma / 2)
                total = total + loss_r1
                stats["Loss/r1_penalty"] = penalty.detach()
                stats["Loss/D/reg"] = loss_r1.detach().flatten()
            objective = total.mean() if fake_term is None else total.mean() + fake_term
            objective.mul(gain).backward()
        return stats

    def _wgan_gp(
        self, phase: Phase, real_img: Tensor, real_c: Tensor | None, gen_z: Tensor, gen_c: Tensor | None, gain: float
    ) -> dict[str, Tensor]:
        """WGAN-GP (Progressive GAN): G minimises -D(G(z)); D minimises D(G(z)) - D(x) + ε D(x)² and, in its
        regularisation phase, λ (||∇D(x̂)|| - t)² / t² at x̂ = lerp(x, G(z), u), u ~ U(0, 1) per sample."""
        s = self.s
        stats: dict[str, Tensor] = {}
        v1 = self.G.version == 1
        if phase in ("Gmain", "Gboth"):
            gen_img, _ = self.run_G(gen_z, gen_c, update_emas=v1)
            gen_logits, q_loss = self._fake_scores(gen_img, gen_c, stats, "G")
            loss = -gen_logits
            (loss + q_loss).mean().mul(gain).backward()
            stats["Loss/scores/fake"] = gen_logits.detach().flatten()
            stats["Loss/G/loss"] = loss.detach().flatten()
        do_Dmain = phase in ("Dmain", "Dboth")
        do_gp = phase in ("Dreg", "Dboth") and s.wgan_lambda != 0
        if not (do_Dmain or do_gp):
            return stats
        with torch.no_grad():
            gen_img, _ = self.run_G(gen_z, gen_c, update_emas=True)
        total = torch.zeros([real_img.shape[0], 1], device=real_img.device)
        if do_Dmain:
            gen_logits, q_loss = self._fake_scores(gen_img, gen_c, stats, "D")
            real_logits = self.run_D(real_img.detach(), real_c)
            loss = gen_logits - real_logits + real_logits.square() * s.wgan_epsilon
            total = total + loss + q_loss
            stats["Loss/scores/fake"] = gen_logits.detach().flatten()
            stats["Loss/scores/real"] = real_logits.detach().flatten()
            stats["Loss/signs/real"] = real_logits.detach().sign().flatten()
            stats["Loss/D/loss"] = loss.detach().flatten()
        if do_gp:
            u = torch.rand([real_img.shape[0], 1, 1, 1], generator=self.generator, device=self._device_of_rng())
            mixed = torch.lerp(real_img.detach(), gen_img.detach(), u.to(real_img.device)).requires_grad_(True)
            penalty = wgan_gradient_penalty(mixed, self.run_D(mixed, real_c, second_order=True), s.wgan_target)
            loss_gp = penalty[:, None] * (s.wgan_lambda / s.wgan_target**2)
            total = total + loss_gp
            stats["Loss/gp_penalty"] = penalty.detach()
            stats["Loss/D/reg"] = loss_gp.detach().flatten()
        total.mean().mul(gain).backward()
        return stats

    def _device_of_rng(self) -> torch.device | str:
        return self.generator.device if self.generator is not None else "cpu"
