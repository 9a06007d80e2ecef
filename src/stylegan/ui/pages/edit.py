"""Edit: move a latent along semantic directions (direction files, SeFa, GANSpace), all sliders at once, and
sweep one direction into a video; the `/edit` and `/edit_sweep` API endpoints.

An edit is one line `source:component amount [layers]`: `source` is a direction file's name (given at start-up
with `stylegan ui --direction F`, or uploaded), `sefa` (SeFa of the network's style affines on `layers`) or
`ganspace` (principal components of sampled W; its amount is in standard deviations). The sliders write these
lines; the API takes them as text. All edits are summed: w + Σ amount * direction on each edit's layers.
"""

from __future__ import annotations

import re
import threading
import uuid
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np
import torch

from ...editing.directions import Direction, apply_direction, ganspace, sample_latents, sefa
from ...errors import StyleGANError
from ...images import make_grid
from ..context import (
    MAX_IMAGES,
    NOISE_MODES,
    Page,
    UIContext,
    class_or_none,
    cutoff_or_none,
    display,
    file_path,
    job_step,
    noise_mode,
    streamed,
    user_errors,
)
from ..session import Model

LABELS = {
    "en": {
        "tab.edit": "Edit",
        "edit.settings": "Latent settings (for seed:N)",
        "edit.files": "Direction files (.npz / .npy)",
        "edit.force": "Force: apply direction files made for another network",
        "edit.file_sliders": "Direction files",
        "edit.sefa_sliders": "SeFa: the network's own directions (eigenvalue in the label)",
        "edit.sefa_layers": "SeFa layers (all, coarse, middle, fine or a range such as 0-3)",
        "edit.ganspace_sliders": "GANSpace: principal components of W (steps in standard deviations)",
        "edit.ganspace_layers": "GANSpace layers (all, coarse, middle, fine or a range)",
        "edit.file_layers": "Layers of this file's edit",
        "edit.edits": "Edits (one per line: source:component amount layers)",
        "edit.edits_info": "Written by the sliders when you press Apply; you may also type lines",
        "edit.apply": "Apply edits",
        "edit.reset": "Reset sliders",
        "edit.original": "Original",
        "edit.edited": "Edited",
        "edit.sweep": "Sweep video of one direction",
        "edit.sweep_direction": "Direction to sweep",
        "edit.sweep_layers": "Layers (empty: the direction's own)",
        "edit.sweep_range": "Range (from -range to +range)",
        "edit.frames": "Frames",
        "edit.fps": "Frames per second",
        "edit.format": "Format",
        "edit.sweep_button": "Make sweep video",
        "edit.video": "Sweep (MP4)",
        "edit.gif": "Sweep (GIF)",
        "edit.to_video": "Send to Video",
    },
    "zh": {
        "tab.edit": "编辑",
        "edit.settings": "潜码设置（用于 seed:N）",
        "edit.files": "方向文件（.npz / .npy）",
        "edit.force": "强制：应用为其他网络制作的方向文件",
        "edit.file_sliders": "方向文件",
        "edit.sefa_sliders": "SeFa：网络自身的方向（标签中为特征值）",
        "edit.sefa_layers": "SeFa 层（all、coarse、middle、fine 或范围如 0-3）",
        "edit.ganspace_sliders": "GANSpace：W 的主成分（步长以标准差计）",
        "edit.ganspace_layers": "GANSpace 层（all、coarse、middle、fine 或范围）",
        "edit.file_layers": "该文件编辑的层",
        "edit.edits": "编辑（每行一个：来源:分量 幅度 层）",
        "edit.edits_info": "按“应用”时由滑块写入；也可以手动输入",
        "edit.apply": "应用编辑",
        "edit.reset": "重置滑块",
        "edit.original": "原图",
        "edit.edited": "编辑后",
        "edit.sweep": "单一方向的扫描视频",
        "edit.sweep_direction": "扫描的方向",
        "edit.sweep_layers": "层（留空：方向自带的层）",
        "edit.sweep_range": "范围（从 -范围 到 +范围）",
        "edit.frames": "帧数",
        "edit.fps": "每秒帧数",
        "edit.format": "格式",
        "edit.sweep_button": "制作扫描视频",
        "edit.video": "扫描（MP4）",
        "edit.gif": "扫描（GIF）",
        "edit.to_video": "发送到视频",
    },
}

#: Slider slots per kind (direction files, SeFa, GANSpace).
SLOTS = 5
#: W samples GANSpace's PCA is computed from (seeds 0.., psi 1).
GANSPACE_SAMPLES = 10_000
GANSPACE_COMPONENTS = 32
#: The most frames one video request may have.
MAX_VIDEO_FRAMES = 1800
BUILTIN = ("sefa", "ganspace")
VIDEO_FORMATS = ["mp4", "gif"]

_EDIT_LINE = re.compile(r"^(?P<source>.+):(?P<component>\d+)\s+(?P<amount>\S+)(?:\s+(?P<layers>\S+))?\s*$")


# ---------------------------------------------------------------------------------------------------------
# Directions of a network: SeFa and GANSpace (cached per network hash), files


class _LRU:
    """A small thread-safe cache of computed directions keyed by (network hash, ...)."""

    def __init__(self, size: int = 8) -> None:
        self.size = size
        self._items: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_make(self, key: Any, make: Any) -> Any:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = make()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value


_SEFA = _LRU()
_GANSPACE = _LRU()


def layer_indices(model: Model, text: str | None, what: str = "layers") -> list[int]:
    """`all`, `coarse`, `0-3`, ... -> indices (all layers for an empty text)."""
    from ...editing.latent_ops import parse_layers

    text = str(text or "").strip() or "all"
    try:
        layers = parse_layers(text, model.G.num_ws)
    except StyleGANError as e:
        raise StyleGANError(f"{what}: {e}") from None
    if not layers:
        raise StyleGANError(f"{what} {text!r}: no layer chosen")
    return layers


def sefa_directions(model: Model, layers: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """SeFa's eigenvectors [w_dim, w_dim] and eigenvalues of the network's style affines on `layers` (cached)."""
    return _SEFA.get_or_make((model.hash, tuple(layers)), lambda: sefa(model.G, layers))


def ganspace_directions(model: Model) -> tuple[np.ndarray, np.ndarray]:
    """GANSpace's components [K, w_dim] and the standard deviation of W along each (cached per network hash)."""

    def make() -> tuple[np.ndarray, np.ndarray]:
        w = sample_latents(model.G, GANSPACE_SAMPLES, psi=1.0, progress=False)["w"]
        vecs, std, _ = ganspace(w, GANSPACE_COMPONENTS)
        return vecs, std

    return _GANSPACE.get_or_make(model.hash, make)


def direction_files(ctx: UIContext, uploads: Any) -> dict[str, str]:
    """{file name: path} of the start-up direction files and the uploaded ones (an upload replaces a namesake)."""
    paths = list(ctx.directions) + [p for p in (file_path(u) for u in (uploads or [])) if p]
    return {Path(p).name: str(p) for p in paths}


def load_direction(path: str, model: Model, force: bool = False) -> Direction:
    """A direction file checked against the network: one line when it was made for another one."""
    d = Direction.load(path)
    d.check_network(model.G, force=bool(force), what=Path(path).name)  # the library's one-line refusal
    return d


def parse_edits(text: str) -> list[dict[str, Any]]:
    """Edit lines `source:component amount [layers]` -> [{source, component, amount, layers}] (blank lines and
    `#` comments are skipped)."""
    edits = []
    for lineno, raw in enumerate(str(text or "").splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        m = _EDIT_LINE.match(line)
        if m is None:
            raise StyleGANError(
                f"edit line {lineno} {line[:60]!r}: write source:component amount [layers], e.g. sefa:0 3 all"
            )
        try:
            amount = float(m["amount"])
        except ValueError:
            raise StyleGANError(f"edit line {lineno}: amount {m['amount']!r} is not a number") from None
        if not np.isfinite(amount):
            raise StyleGANError(f"edit line {lineno}: amount must be a finite number")
        edits.append(
            {
                "source": m["source"].strip(),
                "component": int(m["component"]),
                "amount": amount,
                "layers": m["layers"] or "",
            }
        )
    return edits


def edits_text(edits: list[dict[str, Any]]) -> str:
    return "\n".join(
        f"{e['source']}:{e['component']} {e['amount']:g}" + (f" {e['layers']}" if e.get("layers") else "")
        for e in edits
    )


def resolve_direction(
    model: Model, source: str, component: int, layers: str, files: dict[str, str], force: bool = False
) -> tuple[Direction, list[int] | None, bool]:
    """(direction, layers to move or None for the direction's own mask, amounts in standard deviations)."""
    if source == "sefa":
        idx = layer_indices(model, layers, "SeFa layers")
        vecs, vals = sefa_directions(model, idx)
        mask = np.zeros(model.G.num_ws, dtype=bool)
        mask[idx] = True
        _check_component(component, len(vecs), "SeFa")
        return Direction(vecs, mask, "sefa", scale=vals), idx, False
    if source == "ganspace":
        idx = layer_indices(model, layers, "GANSpace layers")
        vecs, std = ganspace_directions(model)
        _check_component(component, len(vecs), "GANSpace")
        return Direction(vecs, np.ones(model.G.num_ws, dtype=bool), "ganspace", scale=std), idx, True
    path = files.get(source) or files.get(Path(source).name)
    if path is None:
        known = ", ".join(files) or "none given"
        raise StyleGANError(f"no direction file {source!r}: upload it (direction files now: {known})")
    d = load_direction(path, model, force)
    d.component(component)  # in range
    own = layer_indices(model, layers, f"layers of {source}") if str(layers or "").strip() else None
    return d, own, False


def _check_component(component: int, n: int, what: str) -> None:
    if not 0 <= component < n:
        raise StyleGANError(f"{what} component {component} is out of range: 0-{n - 1}")


def apply_edits(
    model: Model, ws: torch.Tensor, edits: list[dict[str, Any]], files: dict[str, str], force: bool = False
) -> torch.Tensor:
    """ws moved by every edit at once: w + Σ amount * direction on each edit's layers (`apply_direction`)."""
    for e in edits:
        if e["amount"] == 0:
            continue
        d, idx, sigma = resolve_direction(model, e["source"], e["component"], e["layers"], files, force)
        vec = d.component(e["component"])
        if sigma:
            assert d.scale is not None
            vec = vec * float(d.scale[e["component"]])
        mask = idx if idx is not None else (d.layers if len(d.layers) == model.G.num_ws else None)
        ws = apply_direction(ws, vec, [e["amount"]], mask)
    return ws


# ---------------------------------------------------------------------------------------------------------
# Videos (shared with the Video page)


def video_path(ctx: UIContext, fmt: str) -> Path:
    if fmt not in VIDEO_FORMATS:
        raise StyleGANError(f"video format must be one of {', '.join(VIDEO_FORMATS)}, got {fmt!r}")
    folder = ctx.workdir / "videos"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"tmp-{uuid.uuid4().hex[:12]}.{fmt}"


def check_frames(frames: int) -> None:
    if frames > MAX_VIDEO_FRAMES:
        raise StyleGANError(f"{frames} frames asked for; at most {MAX_VIDEO_FRAMES} per video here")


def write_walk(
    ctx: UIContext, model: Model, walk: torch.Tensor, fmt: str, fps: float, noise: str, noise_seed: int
) -> Path:
    """Render the latent path walk [T, num_ws, w_dim] into a new .mp4 / .gif in the session's video folder."""
    from ...video import check_video_memory, interpolation_frames, write_video

    if noise not in NOISE_MODES:
        raise StyleGANError(f"noise must be one of {', '.join(NOISE_MODES)}, got {noise!r}")
    if not (np.isfinite(fps) and 0 < fps <= 120):
        raise StyleGANError(f"fps must be between 0 and 120, got {fps}")
    check_frames(len(walk))
    path = video_path(ctx, fmt)
    res = model.G.img_resolution
    check_video_memory(path, len(walk), res, res)
    frames = interpolation_frames(model.G, [walk], noise_mode=noise_mode(noise))

    def counted() -> Iterator[np.ndarray]:
        for i, frame in enumerate(frames):
            job_step(i, len(walk))  # progress in the browser; ends here once the user pressed Stop
            yield frame

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(noise_seed))
        write_video(path, counted(), fps=float(fps), total=len(walk), progress=False)
    return path


def file_video(path: Path, entry_id: str, kind: str) -> Path:
    """Name a finished video after its history entry."""
    final = path.with_name(f"{entry_id}-{kind}{path.suffix}")
    path.replace(final)
    return final


def video_outputs(path: Path) -> tuple[Any, Any]:
    """(MP4 for gr.Video, GIF for gr.Image): the other one is cleared."""
    return (str(path), None) if path.suffix == ".mp4" else (None, str(path))


def sweep_walk(
    model: Model,
    ws: torch.Tensor,
    direction: str,
    layers: str,
    amount: float,
    frames: int,
    files: dict[str, str],
    force: bool = False,
) -> tuple[torch.Tensor, torch.Tensor, dict[str, Any]]:
    """The walk [frames, num_ws, w_dim] of the first latent of ws from -amount to +amount along `direction`
    (`source:component`), through `stylegan.editing.apply.edit`; also the two end latents and the recipe part."""
    from ...editing.apply import edit

    source, _, comp = str(direction or "").strip().rpartition(":")
    if not source or not comp.isdigit():
        raise StyleGANError(f"direction {direction!r}: write source:component, e.g. sefa:0 or smile.npz:0")
    component = int(comp)
    frames = int(frames)
    if frames < 2:
        raise StyleGANError(f"a sweep needs at least 2 frames, got {frames}")
    check_frames(frames)
    amount = float(amount)
    if not np.isfinite(amount) or amount <= 0:
        raise StyleGANError(f"the sweep range must be a positive number, got {amount}")
    d, idx, sigma = resolve_direction(model, source, component, layers, files, force)
    result = edit(
        model.G,
        ws[:1],
        d,
        [-amount, amount],
        component=component,
        layers=idx,
        sigma=sigma,
        force=True,
        sweep_frames=frames - 1,
        what=source,
    )
    assert result.sweeps is not None
    part = {"source": source, "component": component, "layers": str(layers or ""), "range": amount, "frames": frames}
    return result.sweeps[0], result.ws, part


# ---------------------------------------------------------------------------------------------------------
# Handlers


def edit_latent(
    ctx: UIContext,
    latent: str,
    edits: str,
    uploads: Any = None,
    psi: float = 0.7,
    cutoff: float = -1,
    class_idx: float = -1,
    noise: str = "const",
    noise_seed: float = 0,
    force: bool = False,
    network: str = "",
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """The latent before and after the edits (images), and the kept result's record."""
    model = ctx.model(network)
    edit_list = parse_edits(edits)
    files = direction_files(ctx, uploads)
    cut, cls = cutoff_or_none(cutoff), class_or_none(model.G, class_idx)
    ws = ctx.latents(model, latent, psi=float(psi), cutoff=cut, class_idx=cls)
    if len(ws) > MAX_IMAGES:
        raise StyleGANError(f"{len(ws)} latents given; at most {MAX_IMAGES} per request")
    edited = apply_edits(model, ws, edit_list, files, bool(force))
    before = ctx.render(model, ws, noise, int(noise_seed))
    after = ctx.render(model, edited, noise, int(noise_seed))
    recipe = ctx.base_recipe(
        "edit",
        model,
        latent=str(latent).strip(),
        edits=edit_list,
        psi=float(psi),
        cutoff=cut,
        noise=noise,
        noise_seed=int(noise_seed),
        force=bool(force),
        **{"class": cls},
    )
    grid_before, grid_after = (make_grid(x, 1, len(x)) for x in (before, after))
    entry, query = ctx.keep(grid_after, recipe, edited)
    files_out = [str(entry.image)] + ([str(entry.latents)] if entry.latents else [])
    record = {"query": query, "files": files_out, "id": entry.id, "spec": f"history:{entry.id}"}
    return display(grid_before[None])[0], display(grid_after[None])[0], record


def edit_sweep(
    ctx: UIContext,
    latent: str,
    direction: str,
    layers: str = "",
    amount: float = 3.0,
    frames: float = 30,
    fps: float = 15,
    fmt: str = "mp4",
    uploads: Any = None,
    psi: float = 0.7,
    cutoff: float = -1,
    class_idx: float = -1,
    noise: str = "const",
    noise_seed: float = 0,
    force: bool = False,
    network: str = "",
) -> tuple[Any, Any, dict[str, Any]]:
    """A video of the latent swept along one direction; (mp4 or None, gif or None, record)."""
    model = ctx.model(network)
    files = direction_files(ctx, uploads)
    cut, cls = cutoff_or_none(cutoff), class_or_none(model.G, class_idx)
    ws = ctx.latents(model, latent, psi=float(psi), cutoff=cut, class_idx=cls)
    walk, ends, part = sweep_walk(model, ws, direction, layers, amount, int(frames), files, bool(force))
    path = write_walk(ctx, model, walk, fmt, float(fps), noise, int(noise_seed))
    middle = ctx.render(model, walk[len(walk) // 2 : len(walk) // 2 + 1], noise, int(noise_seed))[0]
    recipe = ctx.base_recipe(
        "edit",
        model,
        latent=str(latent).strip(),
        sweep={**part, "fps": float(fps), "format": fmt},
        psi=float(psi),
        cutoff=cut,
        noise=noise,
        noise_seed=int(noise_seed),
        force=bool(force),
        **{"class": cls},
    )
    entry, query = ctx.keep(middle, recipe, ends)
    path = file_video(path, entry.id, "edit-sweep")
    files_out = [str(path), str(entry.image)] + ([str(entry.latents)] if entry.latents else [])
    mp4, gif = video_outputs(path)
    return mp4, gif, {"query": query, "files": files_out, "id": entry.id, "spec": f"history:{entry.id}"}


# ---------------------------------------------------------------------------------------------------------
# Slider slots


def slot_labels(ctx: UIContext, network: str, uploads: Any, sefa_layers: str) -> dict[str, Any]:
    """What the slider slots show for a network and the direction files: labels, the files' layers, choices."""
    model = ctx.model(network)
    files = direction_files(ctx, uploads)
    file_slots = []
    for name, path in files.items():
        d = load_direction(path, model)  # a file for another network is refused here, in one line
        layers = np.flatnonzero(d.layers).tolist() if len(d.layers) == model.G.num_ws else []
        text = _range_text(layers, model.G.num_ws)
        label = f"{name}" + (f" ({d.attr})" if d.attr else "") + f" [{d.method}]"
        file_slots.append({"name": name, "label": label, "layers": text})
    idx = layer_indices(model, sefa_layers, "SeFa layers")
    _, vals = sefa_directions(model, idx)
    _, std = ganspace_directions(model)
    sefa_labels = [f"SeFa {k} (λ={vals[k]:.3g})" for k in range(min(SLOTS, len(vals)))]
    gs_labels = [f"GANSpace {k} (σ={std[k]:.3g})" for k in range(min(SLOTS, len(std)))]
    choices = [(s["label"], f"{s['name']}:0") for s in file_slots]
    choices += [(lab, f"sefa:{k}") for k, lab in enumerate(sefa_labels)]
    choices += [(lab, f"ganspace:{k}") for k, lab in enumerate(gs_labels)]
    pose = [s for s in file_slots if re.search(r"yaw|pose", s["name"] + s["label"], re.I)]
    default = f"{pose[0]['name']}:0" if pose else (f"{file_slots[0]['name']}:0" if file_slots else "ganspace:0")
    return {
        "files": file_slots[:SLOTS],
        "sefa": sefa_labels,
        "ganspace": gs_labels,
        "choices": choices,
        "default": default,
    }


def _range_text(layers: list[int], num_ws: int) -> str:
    if not layers or layers == list(range(num_ws)):
        return "all"
    if layers == list(range(layers[0], layers[-1] + 1)):
        return f"{layers[0]}-{layers[-1]}" if len(layers) > 1 else str(layers[0])
    return ",".join(map(str, layers))


def build(ctx: UIContext) -> Page:
    t = ctx.t
    try:
        initial = slot_labels(ctx, "", [], "all")
    except StyleGANError as e:  # a start-up file for another network: said on the page, the rest still works
        initial = {"files": [], "sefa": [], "ganspace": [], "choices": [], "default": "sefa:0", "error": str(e)}
    startup = [Path(p).name for p in ctx.directions]

    with gr.Tab(t("tab.edit"), id="edit"):
        with gr.Row():
            with gr.Column(scale=1):
                latent = gr.Textbox("seed:3", label=t("common.latent"))
                latent_file = gr.File(label=t("common.latent_file"), file_types=[".npz", ".npy"])
                with gr.Accordion(t("edit.settings"), open=False):
                    psi = gr.Slider(-1.0, 2.0, value=0.7, step=0.05, label=t("common.psi"))
                    cutoff = gr.Number(-1, label=t("common.cutoff"), precision=0, minimum=-1)
                    class_idx = gr.Number(-1, label=t("common.class"), precision=0)
                    noise = gr.Radio(NOISE_MODES, value="const", label=t("common.noise"))
                    noise_seed = gr.Number(0, label=t("common.noise_seed"), precision=0, minimum=0)
                uploads = gr.File(
                    label=t("edit.files"), file_count="multiple", file_types=[".npz", ".npy"], elem_id="edit-directions"
                )
                force = gr.Checkbox(False, label=t("edit.force"))
                if initial.get("error"):
                    gr.Markdown(f"**{initial['error']}**")
                gr.Markdown(t("edit.file_sliders"))
                file_sliders, file_layers = [], []
                for i in range(SLOTS):
                    slot = initial["files"][i] if i < len(initial["files"]) else None
                    with gr.Row():
                        file_sliders.append(
                            gr.Slider(
                                -10,
                                10,
                                value=0,
                                step=0.1,
                                label=slot["label"] if slot else f"file {i}",
                                visible=slot is not None,
                                scale=3,
                            )
                        )
                        file_layers.append(
                            gr.Textbox(
                                slot["layers"] if slot else "",
                                label=t("edit.file_layers"),
                                visible=slot is not None,
                                scale=1,
                            )
                        )
                gr.Markdown(t("edit.sefa_sliders"))
                sefa_layers = gr.Textbox("all", label=t("edit.sefa_layers"))
                sefa_sliders = [
                    gr.Slider(-10, 10, value=0, step=0.1, label=lab)
                    for lab in _pad(initial["sefa"], [f"SeFa {k}" for k in range(SLOTS)])
                ]
                gr.Markdown(t("edit.ganspace_sliders"))
                gs_layers = gr.Textbox("all", label=t("edit.ganspace_layers"))
                gs_sliders = [
                    gr.Slider(-5, 5, value=0, step=0.1, label=lab)
                    for lab in _pad(initial["ganspace"], [f"GANSpace {k}" for k in range(SLOTS)])
                ]
                edits = gr.Textbox("", label=t("edit.edits"), info=t("edit.edits_info"), lines=3)
                with gr.Row():
                    apply_btn = gr.Button(t("edit.apply"), variant="primary")
                    reset_btn = gr.Button(t("edit.reset"))
            with gr.Column(scale=1):
                with gr.Row():
                    original = gr.Image(label=t("edit.original"), format="png", interactive=False)
                    edited = gr.Image(label=t("edit.edited"), format="png", interactive=False)
                downloads = gr.File(
                    label=t("common.download"), file_count="multiple", interactive=False, elem_id="edit-downloads"
                )
                spec = gr.Textbox(visible=False)
                to_video = gr.Button(t("edit.to_video"), size="sm")
                with gr.Accordion(t("edit.sweep"), open=True):
                    sweep_dir = gr.Dropdown(
                        initial["choices"],
                        value=initial["default"],
                        label=t("edit.sweep_direction"),
                        allow_custom_value=True,
                    )
                    sweep_layers = gr.Textbox("", label=t("edit.sweep_layers"))
                    sweep_range = gr.Slider(0.1, 20, value=3, step=0.1, label=t("edit.sweep_range"))
                    with gr.Row():
                        frames = gr.Number(30, label=t("edit.frames"), precision=0, minimum=2)
                        fps = gr.Number(15, label=t("edit.fps"), minimum=1, maximum=120)
                        fmt = gr.Radio(VIDEO_FORMATS, value="mp4", label=t("edit.format"))
                    with gr.Row():
                        sweep_btn = gr.Button(t("edit.sweep_button"), variant="primary")
                        sweep_stop = gr.Button(t("common.stop"), variant="stop", elem_id="edit-sweep-stop")
                    video = gr.Video(label=t("edit.video"), height=320)
                    gif = gr.Image(label=t("edit.gif"), type="filepath", interactive=False, height=320)
        record = gr.State()
        file_state = gr.State(initial["files"])

    settings = [psi, cutoff, class_idx, noise, noise_seed, force, ctx.network]

    @user_errors
    def run(
        latent: str,
        edits: str,
        files: Any = None,
        psi: float = 0.7,
        cutoff: float = -1,
        class_idx: float = -1,
        noise: str = "const",
        noise_seed: float = 0,
        force: bool = False,
        network: str = "",
    ) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
        """Apply the edit lines (`source:component amount [layers]`) to `latent` (seed:N, history:ID or a latent
        file); `files`: direction files the lines name. Returns the original and the edited image."""
        return edit_latent(ctx, latent, edits, files, psi, cutoff, class_idx, noise, noise_seed, force, network)

    @user_errors
    @streamed(3)
    def run_sweep(
        latent: str,
        direction: str,
        layers: str = "",
        amount: float = 3.0,
        frames: float = 30,
        fps: float = 15,
        fmt: str = "mp4",
        files: Any = None,
        psi: float = 0.7,
        cutoff: float = -1,
        class_idx: float = -1,
        noise: str = "const",
        noise_seed: float = 0,
        force: bool = False,
        network: str = "",
    ) -> tuple[Any, Any, dict[str, Any]]:
        """A video (mp4 or gif) of `latent` swept from -amount to +amount along `direction` (`sefa:0`,
        `ganspace:1` or `<direction file name>:0`)."""
        return edit_sweep(
            ctx,
            latent,
            direction,
            layers,
            amount,
            frames,
            fps,
            fmt,
            files,
            psi,
            cutoff,
            class_idx,
            noise,
            noise_seed,
            force,
            network,
        )

    def compose(slots: list[dict[str, Any]], sefa_l: str, gs_l: str, *values: Any) -> str:
        fv, fl = values[:SLOTS], values[SLOTS : 2 * SLOTS]
        sv, gv = values[2 * SLOTS : 3 * SLOTS], values[3 * SLOTS :]
        lines = []
        for slot, v, lay in zip(slots or [], fv, fl):
            if v:
                lines.append({"source": slot["name"], "component": 0, "amount": float(v), "layers": lay or ""})
        for k, v in enumerate(sv):
            if v:
                lines.append({"source": "sefa", "component": k, "amount": float(v), "layers": sefa_l or "all"})
        for k, v in enumerate(gv):
            if v:
                lines.append({"source": "ganspace", "component": k, "amount": float(v), "layers": gs_l or "all"})
        return edits_text(lines)

    @user_errors
    def refresh(network: str, files: Any, sefa_l: str) -> list[Any]:
        info = slot_labels(ctx, network, files, sefa_l)
        out: list[Any] = [info["files"]]
        for i in range(SLOTS):
            slot = info["files"][i] if i < len(info["files"]) else None
            out.append(gr.update(label=slot["label"], visible=True) if slot else gr.update(visible=False, value=0))
        for i in range(SLOTS):
            slot = info["files"][i] if i < len(info["files"]) else None
            out.append(gr.update(value=slot["layers"], visible=True) if slot else gr.update(visible=False))
        out += [gr.update(label=lab) for lab in _pad(info["sefa"], [gr.skip()] * SLOTS)]
        out += [gr.update(label=lab) for lab in _pad(info["ganspace"], [gr.skip()] * SLOTS)]
        out.append(gr.update(choices=info["choices"], value=info["default"]))
        return out

    def show(r: dict[str, Any] | None) -> tuple[Any, Any, Any]:
        return (r["query"], r["files"], r["spec"]) if r else (gr.skip(), gr.skip(), gr.skip())

    slot_outputs = [file_state, *file_sliders, *file_layers, *sefa_sliders, *gs_sliders, sweep_dir]
    for trigger in (ctx.network.change, uploads.change, sefa_layers.submit):
        trigger(
            refresh, [ctx.network, uploads, sefa_layers], slot_outputs, api_visibility="private", **ctx.device_queue
        )
    latent_file.upload(lambda f: file_path(f) or gr.skip(), latent_file, latent, queue=False, api_visibility="private")
    reset_btn.click(
        lambda: [0] * (3 * SLOTS) + [""],
        None,
        [*file_sliders, *sefa_sliders, *gs_sliders, edits],
        queue=False,
        api_visibility="private",
    )
    apply_btn.click(
        compose,
        [file_state, sefa_layers, gs_layers, *file_sliders, *file_layers, *sefa_sliders, *gs_sliders],
        edits,
        queue=False,
        api_visibility="private",
    ).then(
        run, [latent, edits, uploads, *settings], [original, edited, record], api_name="edit", **ctx.device_queue
    ).then(show, record, [ctx.share_query, downloads, spec], queue=False, api_visibility="private")
    sweep_event = sweep_btn.click(
        run_sweep,
        [latent, sweep_dir, sweep_layers, sweep_range, frames, fps, fmt, uploads, *settings],
        [video, gif, record],
        api_name="edit_sweep",
        **ctx.device_queue,
    )
    sweep_event.then(show, record, [ctx.share_query, downloads, spec], queue=False, api_visibility="private")
    sweep_stop.click(None, None, None, cancels=[sweep_event], queue=False, api_visibility="private")
    ctx.handovers.append((to_video, spec, "video"))

    restore_outputs = [
        latent,
        edits,
        psi,
        cutoff,
        class_idx,
        noise,
        noise_seed,
        force,
        sefa_layers,
        gs_layers,
        *file_sliders,
        *file_layers,
        *sefa_sliders,
        *gs_sliders,
        sweep_dir,
        sweep_layers,
        sweep_range,
        frames,
        fps,
        fmt,
    ]

    def restore(recipe: dict[str, Any]) -> list[Any]:
        recipe = full_recipe(ctx, recipe)

        def value(key: str, default: Any) -> Any:
            v = recipe.get(key)
            return default if v is None else v

        edits_kept = recipe.get("edits")
        edit_list: list[Any] = edits_kept if isinstance(edits_kept, list) else []
        fvals: list[Any] = [0] * SLOTS
        flayers: list[Any] = [gr.skip()] * SLOTS
        svals: list[Any] = [0] * SLOTS
        gvals: list[Any] = [0] * SLOTS
        sefa_l: Any = gr.skip()
        gs_l: Any = gr.skip()
        for e in edit_list:
            if not isinstance(e, dict):
                continue
            k, amount, lay = int(e.get("component", 0)), e.get("amount", 0), e.get("layers", "")
            if e.get("source") == "sefa" and k < SLOTS:
                svals[k], sefa_l = amount, lay or "all"
            elif e.get("source") == "ganspace" and k < SLOTS:
                gvals[k], gs_l = amount, lay or "all"
            elif e.get("source") in startup and k == 0:
                i = startup.index(e["source"])
                if i < SLOTS:
                    fvals[i], flayers[i] = amount, lay or gr.skip()
        sweep = recipe.get("sweep") if isinstance(recipe.get("sweep"), dict) else {}
        sweep_values: list[Any] = (
            [
                f"{sweep.get('source')}:{sweep.get('component', 0)}",
                sweep.get("layers", ""),
                sweep.get("range", 3),
                sweep.get("frames", 30),
                sweep.get("fps", 15),
                sweep.get("format", "mp4"),
            ]
            if sweep
            else [gr.skip()] * 6
        )
        return [
            value("latent", "seed:3"),
            edits_text([e for e in edit_list if isinstance(e, dict)]) if edit_list else "",
            value("psi", 0.7),
            value("cutoff", -1),
            value("class", -1),
            value("noise", "const"),
            value("noise_seed", 0),
            bool(value("force", False)),
            sefa_l,
            gs_l,
            *fvals,
            *flayers,
            *svals,
            *gvals,
            *sweep_values,
        ]

    return Page("edit", restore_outputs, restore, latent_input=latent)


def _pad(items: list[Any], fill: list[Any]) -> list[Any]:
    return list(items[:SLOTS]) + list(fill[len(items[:SLOTS]) : SLOTS])


def full_recipe(ctx: UIContext, recipe: dict[str, Any]) -> dict[str, Any]:
    """A link's recipe (only the keys a link carries) completed from its history entry, when it is still kept."""
    entry_id = recipe.get("id")
    if not entry_id:
        return recipe
    try:
        kept = ctx.history.get(str(entry_id)).recipe
    except StyleGANError:
        return recipe
    return {**kept, **recipe} if kept.get("kind") == recipe.get("kind") else recipe
