"""Training the face-swap model on two identities' faces, with previews and exact resume.

Each step draws a batch of A's faces and one of B's, warps them (`random_warp`) and asks the shared encoder plus
each identity's own decoder for the unwarped faces; the loss is the face-weighted L1 (`masked_l1`) of both, and
Adam (lr 5e-5 in the original; 1e-4 here, for few CPU steps; betas 0.5, 0.999) updates all three networks.

Files: `OUT` (the model, rewritten at every save), `OUT_STEM.state.pt` (optimiser, random state, step: what
`resume` needs; read with `torch.load(weights_only=True)`), and `OUT_STEM-previews/stepNNNNNN.png`: a grid of
four faces of each identity, rows A, A rebuilt, A drawn as B, B, B rebuilt, B drawn as A.
"""

from __future__ import annotations

import collections
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from ..errors import StyleGANError
from .faces import FaceSet, collect_faces, fill_masks
from .model import FaceSwapConfig, FaceSwapModel, load_faceswap, masked_l1, random_warp, save_faceswap

STATE_FORMAT = "stylegan-faceswap-state/1"
#: Steps between two points of the recorded loss curve.
LOSS_EVERY = 10


def state_path(out: str | os.PathLike[str]) -> Path:
    """Where the resume state of model file `out` lives."""
    out = Path(out)
    return out.with_name(out.stem + ".state.pt")


def preview_dir(out: str | os.PathLike[str]) -> Path:
    """Where the preview grids of model file `out` go."""
    out = Path(out)
    return out.with_name(out.stem + "-previews")


def to_tensor(images: np.ndarray, device: torch.device) -> torch.Tensor:
    """uint8 [N, S, S, 3] -> float [N, 3, S, S] in [0, 1]."""
    return torch.from_numpy(np.array(images, copy=True)).to(device).permute(0, 3, 1, 2).float() / 255


def to_uint8(x: torch.Tensor) -> np.ndarray:
    """float [N, 3, S, S] in [0, 1] -> uint8 [N, S, S, 3]."""
    return (x.clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()


@torch.no_grad()
def preview(model: FaceSwapModel, a: FaceSet, b: FaceSet, n: int = 4) -> np.ndarray:
    """The preview grid (uint8): rows A, A rebuilt, A as B, B, B rebuilt, B as A; `n` evenly spaced faces each."""
    from ..images import make_grid

    device = next(model.parameters()).device
    rows = []
    for faces, own, other in ((a, "a", "b"), (b, "b", "a")):
        pick = np.linspace(0, len(faces) - 1, n).round().astype(int)
        x = to_tensor(faces.images[pick], device)
        rows += [x, model(x, own), model(x, other)]
    grid = torch.cat(rows)
    return make_grid(to_uint8(grid), 6, n)


def _log_faces(log: Callable[[str], None], name: str, faces: FaceSet) -> None:
    whole = len(faces.used_whole)
    log(f"{name}: {len(faces)} images from {faces.source}: {faces.found} faces found and aligned, {whole} used whole")


def train_faceswap(
    a: str | os.PathLike[str],
    b: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    size: int = 64,
    width: int = 64,
    steps: int = 1000,
    batch: int = 16,
    lr: float = 1e-4,
    preview_every: int = 100,
    save_every: int = 100,
    resume: bool = False,
    seed: int = 0,
    device: torch.device | str | None = "cpu",
    log: Callable[[str], None] = print,
    progress: bool | None = None,
) -> FaceSwapModel:
    """Train (or, with `resume`, continue) a face-swap model on identity A's and B's faces until `steps` steps.

    A and B are folders of images or video files; faces are found and FFHQ-aligned at size x size (see
    `stylegan.faceswap.faces`). The model file `out` and its resume state are written every `save_every` steps
    and at the end, a preview grid every `preview_every` steps. Resuming continues the same run exactly (same
    batches and warps as an uninterrupted one); its size and width come from the saved model."""
    from ..device import pick_device
    from ..fileio import writing
    from ..progress import progress_bar
    from ..train.state import load_training_state, save_training_state

    out = Path(out)
    device = pick_device(device)
    if steps < 1 or batch < 1 or preview_every < 1 or save_every < 1:
        raise StyleGANError("steps, batch, preview and save intervals must be at least 1")
    with writing(out.parent):
        out.parent.mkdir(parents=True, exist_ok=True)
    start, state = 0, None
    if resume:
        if not out.is_file() or not state_path(out).is_file():
            raise StyleGANError(f"{out}: nothing to resume (the model and {state_path(out).name} are needed)")
        model = load_faceswap(out, device).train().requires_grad_(True)
        state = load_training_state(state_path(out), STATE_FORMAT)
        start = int(state["step"])
        size, width = model.cfg.size, model.cfg.width
        log(f"resuming {out} at step {start}")
    else:
        with torch.random.fork_rng(devices=[]):  # seeded initial weights without touching the global RNG
            torch.manual_seed(seed)
            model = FaceSwapModel(FaceSwapConfig(size=size, width=width)).to(device)

    face_a, face_b = collect_faces(a, size, progress=progress), collect_faces(b, size, progress=progress)
    fill_masks([face_a, face_b], size)
    _log_faces(log, "A", face_a)
    _log_faces(log, "B", face_b)
    model.info.source_a, model.info.source_b = str(a), str(b)
    model.info.faces = {"a": [face_a.found, len(face_a.used_whole)], "b": [face_b.found, len(face_b.used_whole)]}

    data = {}
    for name, faces in (("a", face_a), ("b", face_b)):
        data[name] = (to_tensor(faces.images, device), torch.from_numpy(faces.masks)[:, None].to(device))
    opt = torch.optim.Adam(model.parameters(), lr=lr, betas=(0.5, 0.999))
    gen = torch.Generator().manual_seed(seed)
    if state is not None:
        try:
            opt.load_state_dict(state["optimizer"])
            gen.set_state(state["rng"])
        except (KeyError, ValueError, RuntimeError) as e:
            raise StyleGANError(f"{state_path(out)}: cannot resume ({str(e).splitlines()[0][:120]})") from None

    def save(step: int) -> None:
        model.info.steps = step
        save_faceswap(model, out)
        save_training_state(
            state_path(out), {"optimizer": opt.state_dict(), "rng": gen.get_state(), "step": step}, STATE_FORMAT
        )

    running, counted = np.zeros(2), 0  # loss sums since the curve's last point
    recent: collections.deque[list[float]] = collections.deque(maxlen=LOSS_EVERY)  # the last steps, for the log
    with progress_bar(steps - start, "face swap", unit="step", enabled=progress) as bar:
        for step in range(start, steps):
            model.train()
            losses = []
            for name in ("a", "b"):
                images, masks = data[name]
                pick = torch.randint(len(images), (batch,), generator=gen).to(device)
                warped, target, mask = random_warp(images[pick], masks[pick], gen)
                losses.append(masked_l1(model(warped, name), target, mask))
            opt.zero_grad(set_to_none=True)
            (losses[0] + losses[1]).backward()
            opt.step()
            running += [float(v.detach()) for v in losses]
            recent.append([float(v.detach()) for v in losses])
            counted += 1
            done = step + 1
            if done % LOSS_EVERY == 0 or done == steps:
                model.info.losses.append([done, *(running / counted).round(5).tolist()])
                running[:], counted = 0, 0
            if done % preview_every == 0 or done == steps:
                from ..images import save_image

                save_image(preview(model.eval(), face_a, face_b), preview_dir(out) / f"step{done:06d}.png")
                la, lb = np.mean(recent, axis=0)
                log(f"step {done}/{steps}  loss A {la:.4f}  loss B {lb:.4f}")
            if done % save_every == 0 or done == steps:
                save(done)
            bar.update(1)
    if start >= steps:
        log(f"{out} has already been trained for {start} steps")
    return model.eval().requires_grad_(False)


__all__ = ["preview", "preview_dir", "state_path", "train_faceswap"]
