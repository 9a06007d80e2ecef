"""Editing latents along a direction: the edit strip (one row per latent, one column per step) and the sweep a
video of the edit walks through.

>>> from stylegan.testing import tiny_generator
>>> from stylegan.generation import seeds_to_ws
>>> G = tiny_generator()
>>> d = Direction(np.eye(G.w_dim, dtype=np.float32)[:1], np.ones(G.num_ws, dtype=bool), "external")
>>> res = edit(G, seeds_to_ws(G, [1, 2]), d, [-1.0, 0.0, 1.0], sweep_frames=2)
>>> res.images.shape, res.ws.shape, res.strip().shape, [len(s) for s in res.sweeps]
((6, 16, 16, 3), torch.Size([6, 6, 32]), (32, 48, 3), [5, 5])
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from ..errors import SettingError, StyleGANError
from ..networks import Generator
from ..networks.synthesis import NoiseMode
from .directions import Direction, apply_direction


@dataclass
class EditResult:
    """What `edit` made from N latents and S steps.

    Attributes:
        images: uint8 [N * S, H, W, C], latent-major (the S steps of latent 0 first).
        ws: the edited latents [N * S, num_ws, w_dim], in the same order.
        steps: the S steps.
        sweeps: with `sweep_frames`, per latent the latents [T, num_ws, w_dim] of a walk through the steps.
    """

    images: np.ndarray = field(repr=False)
    ws: Tensor
    steps: list[float]
    sweeps: list[Tensor] | None = field(default=None, repr=False)

    @property
    def rows(self) -> int:
        """The number of edited latents N."""
        return len(self.ws) // len(self.steps)

    @property
    def frames(self) -> int:
        """The number of frames of each sweep (0 without sweeps)."""
        return len(self.sweeps[0]) if self.sweeps else 0

    def strip(self) -> np.ndarray:
        """The images as one grid: a row per latent, a column per step."""
        from ..images import make_grid

        return make_grid(self.images, self.rows, len(self.steps))


def edit(
    G: Generator,
    ws: Tensor,
    direction: Direction,
    steps: Sequence[float],
    *,
    component: int = 0,
    layers: str | Sequence[int] | None = None,
    sigma: bool = False,
    absolute: bool = False,
    force: bool = False,
    noise_mode: NoiseMode = "const",
    sweep_frames: int | None = None,
    what: str = "direction",
) -> EditResult:
    """Move latents ws [N, num_ws, w_dim] along `direction`: w + step * direction on the chosen layers, per step.

    Args:
        component: which direction of a multi-component file (SeFa, GANSpace).
        layers: the layers to move (indices, a range such as `0-3`, or a preset such as `coarse`); default: the
            direction's own layer mask when it fits G, else all layers.
        sigma: steps are in the direction's own units (GANSpace: standard deviations in W; mean-diff: units of the
            label), i.e. multiplied by the direction's `scale`.
        absolute: steps are signed distances from the attribute's boundary (InterFaceGAN; a supervised direction's
            `meta['offset']`), not offsets from w.
        force: apply a direction that was made for another network (same shapes).
        sweep_frames: also make, per latent, the latents of a walk through the steps with this many frames per step
            (linear between consecutive steps, for a video); needs at least two steps.
        what: how errors name the direction (e.g. its file name).
    """
    from ..generation import synthesize
    from ..video import interpolate_keys
    from .latent_ops import parse_layers

    direction.check_network(G, force=force, what=what)
    vec = direction.component(component)
    if sigma:
        if direction.scale is None or direction.method not in ("ganspace", "mean-diff"):
            raise SettingError(
                f"{{sigma}} needs a GANSpace or mean-diff direction file (this one is {direction.method})",
                sigma="sigma",
            )
        vec = vec * float(direction.scale[component])
    mask: Sequence[int] | np.ndarray | None
    if layers is not None:
        mask = parse_layers(layers, G.num_ws)
    else:
        mask = direction.layers if len(direction.layers) == G.num_ws else None
    offset = None
    if absolute:
        if "offset" not in direction.meta or sigma:
            raise SettingError(
                "{absolute} needs a supervised direction (mean-diff, logistic, svm) and no {sigma}",
                absolute="absolute",
                sigma="sigma",
            )
        offset = float(direction.meta["offset"])
    step_list = [float(s) for s in steps]
    if sweep_frames is not None and len(step_list) < 2:
        raise SettingError(
            "{sweep_frames} needs at least two {steps} to sweep between", sweep_frames="sweep_frames", steps="steps"
        )
    edited = apply_direction(ws, vec, step_list, mask, offset=offset)
    sweeps = None
    if sweep_frames is not None:
        path = interpolate_keys(torch.tensor(step_list, dtype=torch.float64)[:, None], sweep_frames).squeeze(1)
        sweeps = [apply_direction(ws[i : i + 1], vec, path.tolist(), mask, offset=offset) for i in range(len(ws))]
    return EditResult(synthesize(G, edited, noise_mode=noise_mode), edited, step_list, sweeps)


def save_edit(
    G: Generator,
    result: EditResult,
    path: str | os.PathLike[str],
    *,
    video: str | os.PathLike[str] | None = None,
    fps: float = 30.0,
    noise_mode: NoiseMode = "const",
) -> list[Path]:
    """Write the strip image to `path`, the edited latents (with their steps) beside it (same name, .npz), and
    with `video` the sweeps, side by side, to an .mp4 / .gif. Returns the paths written."""
    from ..images import save_image
    from ..video import render_video
    from .latent_ops import save_latents

    path = Path(path)
    paths = [save_image(result.strip(), path), save_latents(path.with_suffix(".npz"), result.ws, steps=result.steps)]
    if video is not None:
        if result.sweeps is None:
            raise StyleGANError("this edit has no sweep to write a video of: make it with sweep_frames")
        walks = result.sweeps
        paths.append(
            render_video(G, video, walks, grid=(1, len(walks)), fps=fps, noise_mode=noise_mode, desc="sweeping")
        )
    return paths


__all__ = ["EditResult", "edit", "save_edit"]
