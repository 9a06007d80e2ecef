"""Progressive growing (Karras et al. 2018) as StyleGAN (version 1) trains it, and the StyleGAN2 paper's configs A-D.

The level of detail `lod` (0 = full resolution) is a pure function of the number of real images shown, so a run
resumed anywhere, even in the middle of a fade, continues on exactly the same schedule. With R the resolution of
the data and r0 the initial resolution, a phase lasts `training_kimg + transition_kimg` thousand images:

    phase = floor(kimg / (training_kimg + transition_kimg)),  t = kimg - phase * (training_kimg + transition_kimg)
    lod   = max(log2 R - log2 r0 - phase - max(t - training_kimg, 0) / transition_kimg, 0)

so each resolution is trained alone for `training_kimg`, then the next one is faded in over `transition_kimg`.
The minibatch and the learning rates are looked up per resolution 2**(log2 R - floor(lod)): during a fade
floor(lod) is already the new level, so the larger resolution's values apply from the start of the fade.

The networks always see full-resolution images: G draws at the level of detail and nearest-upsamples, D box-
downsamples its input. The real images go through `process_reals`, which makes them look like what G draws.

>>> level_of_detail(0, 1024, 8, 600, 600), level_of_detail(900, 1024, 8, 600, 600)  # 8x8, then fading in 16x16
(7.0, 6.5)
>>> lod_resolution(1024, 6.5), level_of_detail(8400, 1024, 8, 600, 600)  # 1024x1024 reached at 8400 kimg
(16, 0.0)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from ..errors import SettingError
from ..images import from_uint8
from ..networks.v1 import downscale2d, upscale2d

#: A per-resolution table: (resolution, value) pairs, sorted by resolution.
Table = tuple[tuple[int, Any], ...]


def _table(name: str, value: Any, kind: type) -> Table:
    """`value` (a mapping, or pairs as JSON stores them) as sorted (resolution, value) pairs, each checked."""
    items: Iterable[Any] = value.items() if isinstance(value, Mapping) else value
    try:
        pairs = [(k, v) for k, v in items]
    except (TypeError, ValueError):
        raise SettingError(f"{{{name}}} must map resolutions to values, got {value!r}"[:200], name) from None
    out: dict[int, Any] = {}
    for res, v in pairs:
        res = int(res) if isinstance(res, str) and res.isdigit() else res
        if not isinstance(res, int) or isinstance(res, bool) or res < 4 or res & (res - 1):
            raise SettingError(f"{{{name}}}: {res!r} is not a resolution (a power of two >= 4)", name)
        number = isinstance(v, (int, float)) and not isinstance(v, bool)
        if kind is int and not (number and isinstance(v, int) and v >= 1):
            raise SettingError(f"{{{name}}}[{res}] must be an integer >= 1, got {v!r}", name)
        if kind is float and not (number and math.isfinite(v) and v > 0):
            raise SettingError(f"{{{name}}}[{res}] must be a finite number > 0, got {v!r}", name)
        out[res] = kind(v)
    return tuple(sorted(out.items()))


@dataclass(frozen=True)
class ProgressiveConfig:
    """Progressive growing: the schedule of the level of detail, the per-resolution tables that override the run's
    minibatch (`batch`: global, `batch_gpu`: micro-batch per process) and learning rates, and whether the Adam
    state is reset whenever floor(lod) or ceil(lod) changes (at the start and at the end of every fade)."""

    initial_res: int = 8  # resolution the training starts at (the data's resolution = no growing)
    training_kimg: float = 600.0  # thousands of images shown at each resolution before the next one fades in
    transition_kimg: float = 600.0  # thousands of images the fade-in lasts
    batch: Table = ()  # {resolution: global minibatch}; the others use TrainConfig.batch
    batch_gpu: Table = ()  # {resolution: micro-batch per process}; the others use TrainConfig.batch_gpu
    G_lr: Table = ()  # {resolution: G learning rate}; the others use G_opt.lr
    D_lr: Table = ()  # {resolution: D learning rate}; the others use D_opt.lr
    reset_optimizers: bool = True

    def __post_init__(self) -> None:
        res = self.initial_res
        if not isinstance(res, int) or isinstance(res, bool) or res < 4 or res & (res - 1):
            raise SettingError(
                f"{{lod_initial_res}} must be a power of two >= 4 (4, 8, 16, ...), got {res!r}", "lod_initial_res"
            )
        for name, value in (
            ("lod_training_kimg", self.training_kimg),
            ("lod_transition_kimg", self.transition_kimg),
        ):
            ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
            if not ok or value < 0:
                raise SettingError(f"{{{name}}} must be a finite number >= 0, got {value!r}", name)
        if self.training_kimg + self.transition_kimg <= 0:
            raise SettingError(
                "{lod_training_kimg} and {lod_transition_kimg} are 0: the run would never grow; to train at full "
                "resolution from the start, set {lod_initial_res} to the resolution of the data",
                "lod_training_kimg",
                "lod_transition_kimg",
                "lod_initial_res",
            )
        object.__setattr__(self, "training_kimg", float(self.training_kimg))
        object.__setattr__(self, "transition_kimg", float(self.transition_kimg))
        object.__setattr__(self, "batch", _table("batch", self.batch, int))
        object.__setattr__(self, "batch_gpu", _table("batch_gpu", self.batch_gpu, int))
        object.__setattr__(self, "G_lr", _table("G_lr", self.G_lr, float))
        object.__setattr__(self, "D_lr", _table("D_lr", self.D_lr, float))
        if not isinstance(self.reset_optimizers, bool):
            raise SettingError(f"reset_optimizers must be true or false, got {self.reset_optimizers!r}")

    def check_resolution(self, resolution: int) -> None:
        """A one-line error naming `lod_initial_res` unless it lies between 4 and the data's `resolution`."""
        if self.initial_res > resolution:
            raise SettingError(
                f"{{lod_initial_res}} {self.initial_res} is above the resolution of the data ({resolution}): it "
                f"must be a power of two between 4 and {resolution}",
                "lod_initial_res",
            )

    def lod(self, cur_nimg: int, resolution: int) -> float:
        """The level of detail after `cur_nimg` real images for data of `resolution`."""
        return level_of_detail(
            cur_nimg / 1000.0, resolution, self.initial_res, self.training_kimg, self.transition_kimg
        )

    def resolutions(self, resolution: int) -> list[int]:
        """Every resolution the run trains at, from the initial one up to `resolution`."""
        return [2**i for i in range(int(math.log2(min(self.initial_res, resolution))), int(math.log2(resolution)) + 1)]


def level_of_detail(
    kimg: float, resolution: int, initial_res: int, training_kimg: float, transition_kimg: float
) -> float:
    """lod after `kimg` thousand images (see the module doc): log2 R - log2 r0 at the start, 0 once grown.

    >>> [level_of_detail(k, 32, 8, 0.03, 0.03) for k in (0, 0.03, 0.045, 0.06, 0.09, 0.105, 0.12, 1)]
    [2.0, 2.0, 1.5, 1.0, 1.0, 0.5, 0.0, 0.0]
    """
    phase_dur = training_kimg + transition_kimg
    phase_idx = int(math.floor(kimg / phase_dur)) if phase_dur > 0 else 0
    phase_kimg = kimg - phase_idx * phase_dur
    lod = math.log2(resolution) - math.floor(math.log2(initial_res)) - phase_idx
    if transition_kimg > 0:
        lod -= max(phase_kimg - training_kimg, 0.0) / transition_kimg
    return max(lod, 0.0)


def lod_resolution(resolution: int, lod: float) -> int:
    """The resolution being trained at level of detail `lod`: 2**(log2 R - floor(lod)) (the new one during a fade)."""
    return 2 ** (int(math.log2(resolution)) - int(math.floor(lod)))


def lod_levels(lod: float) -> tuple[int, int]:
    """(floor(lod), ceil(lod)): the optimisers are reset whenever this changes, at the start and end of a fade."""
    return int(math.floor(lod)), int(math.ceil(lod))


def lookup(table: Table, resolution: int, default: Any) -> Any:
    """The value `table` gives `resolution`, else `default`."""
    return dict(table).get(resolution, default)


def process_reals(images: Tensor, lod: float) -> Tensor:
    """Real images in [0, 255] (uint8 or float, full resolution) -> what D sees at level of detail `lod`, in [-1, 1]
    and still at full resolution: the image at resolution R / 2**floor(lod) (the mean of each 2**floor(lod) square,
    rounded to 8 bits as NVIDIA's datasets store each level), cross-faded during a transition with its own 2x box
    downsampling, lerp(x, up(down(x)), lod - floor(lod)), then nearest-upsampled back to R x R.

    >>> x = torch.arange(16.0).reshape(1, 1, 4, 4) * 16
    >>> process_reals(x, 0.0).equal(from_uint8(x))
    True
    >>> process_reals(x, 1.0)[0, 0, :2, :2].tolist() == [[from_uint8(torch.tensor(40.0)).item()] * 2] * 2
    True
    """
    x = images.to(torch.float32)
    level = int(math.floor(lod))
    if level > 0:
        x = downscale2d(x, 2**level).round()
    x = from_uint8(x)
    fade = lod - level
    if fade > 0 and x.shape[-1] >= 2:
        x = torch.lerp(x, upscale2d(downscale2d(x)), fade)
    return upscale2d(x, 2**level)
