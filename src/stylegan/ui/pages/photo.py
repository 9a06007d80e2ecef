"""Your photo: align the face of an uploaded photo, project it into the network (live), keep the latent.

The projection (`stylegan.inversion.projection.project`) runs in a worker thread; its per-step callback sends the
current image to the page, which shows it as it improves. Stop ends the optimisation where it is (the callback
returns True) and keeps that result. The `/project` API endpoint streams the same way; a caller receives the final
outputs.
"""

from __future__ import annotations

import io
import queue
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import gradio as gr
import numpy as np
import torch

from ...errors import StyleGANError
from ..context import Page, UIContext, class_or_none, display, user_errors

if TYPE_CHECKING:
    from ...inversion.projection import Loss, Space

LABELS = {
    "en": {
        "tab.photo": "Your photo",
        "photo.upload": "Photo",
        "photo.align": "Align the face (FFHQ crop)",
        "photo.align_info": "Without a face (or the landmark model) the centre square is used",
        "photo.steps": "Steps",
        "photo.space": "Latent space",
        "photo.loss": "Distance",
        "photo.loss_info": "auto: LPIPS when the perceptual network is available, else mean squared error",
        "photo.class_info": "For a conditional network: the class whose average latent starts the search",
        "photo.button": "Project",
        "photo.target": "Target (as the network sees it)",
        "photo.result": "Projection",
        "photo.pasted": "Pasted back into the photo",
        "photo.to_edit": "Edit this face",
        "photo.to_fuse": "Fuse this face",
        "photo.spec": "Latent of the result",
    },
    "zh": {
        "tab.photo": "你的照片",
        "photo.upload": "照片",
        "photo.align": "对齐人脸（FFHQ 裁剪）",
        "photo.align_info": "找不到人脸（或缺少特征点模型）时使用中心正方形",
        "photo.steps": "步数",
        "photo.space": "潜空间",
        "photo.loss": "距离",
        "photo.loss_info": "auto：有感知网络时用 LPIPS，否则用均方误差",
        "photo.class_info": "条件网络：从该类别的平均潜码开始搜索",
        "photo.button": "投影",
        "photo.target": "目标（网络看到的样子）",
        "photo.result": "投影结果",
        "photo.pasted": "贴回原照片",
        "photo.to_edit": "编辑这张脸",
        "photo.to_fuse": "融合这张脸",
        "photo.spec": "结果的潜码",
    },
}

SPACES = ["w", "w+"]
LOSSES = ["auto", "lpips", "mse"]
#: Seconds between two live images (the optimisation is not slowed down by a busy browser).
LIVE_INTERVAL = 0.25

_perceptual_lock = threading.Lock()
_perceptual: dict[str, Any] = {}


# ---------------------------------------------------------------------------------------------------------
# Preparing the target


@dataclass
class Prepared:
    """A photo made ready for projection: the target uint8 [R, R, C], the face's quad in the photo (None for the
    centre crop), the photo itself (RGB) and what was done, for the status line and the recipe."""

    target: np.ndarray
    quad: np.ndarray | None
    photo: np.ndarray
    alignment: str
    note: str = ""


def as_rgb(photo: Any) -> np.ndarray:
    """An uploaded image (array or path) as uint8 RGB [H, W, 3]."""
    from PIL import Image

    if photo is None:
        raise StyleGANError("upload a photo first")
    if isinstance(photo, (str, Path)):
        from ...inversion.alignment import load_rgb

        return load_rgb(photo)
    arr = np.asarray(photo)
    if arr.ndim == 2:
        arr = np.repeat(arr[:, :, None], 3, axis=2)
    if arr.ndim != 3 or arr.shape[2] not in (1, 3, 4) or min(arr.shape[:2]) < 1:
        raise StyleGANError(f"the photo must be an RGB image, got an array of shape {list(arr.shape)}")
    if arr.dtype != np.uint8:
        arr = np.clip(arr, 0, 255).astype(np.uint8)
    if arr.shape[2] != 3:
        arr = np.asarray(Image.fromarray(arr.squeeze(2) if arr.shape[2] == 1 else arr).convert("RGB"))
    return np.ascontiguousarray(arr)


def prepare_photo(photo: Any, resolution: int, channels: int, align: bool) -> Prepared:
    """Align the photo's face at the network's resolution (`detect_landmarks` + `align_face`); without a face or
    without dlib and its landmark model, cut the centre square (and say so)."""
    from PIL import Image

    from ...inversion.projection import preprocess_target

    rgb = as_rgb(photo)
    note = ""
    if align:
        from ...inversion.alignment import align_face, detect_landmarks

        try:
            landmarks = detect_landmarks(rgb)
        except StyleGANError as e:
            note = f"no face aligned ({e}): used the centre square"
        else:
            size = resolution
            face = align_face(rgb, landmarks, size=size, transform_size=max(size, min(4096, 4 * size)))
            target = preprocess_target(Image.fromarray(face.image), resolution, channels)
            return Prepared(target, face.quad, rgb, "face", "face aligned")
    else:
        note = "centre square (alignment off)"
    return Prepared(preprocess_target(Image.fromarray(rgb), resolution, channels), None, rgb, "centre", note)


def choose_loss(loss: str, G: Any) -> tuple[str, Any, str]:
    """(loss, perceptual network or None, note): `auto` is LPIPS when the perceptual network loads and fits the
    network's resolution, else MSE (the note says why)."""
    if loss not in LOSSES:
        raise StyleGANError(f"distance must be one of {', '.join(LOSSES)}, got {loss!r}")
    if loss == "mse":
        return "mse", None, ""
    from ...metrics.perceptual import find_nvidia_file, find_offline_lpips, load_perceptual

    device = next(G.parameters()).device
    try:
        if find_nvidia_file("vgg16") is None and find_offline_lpips() is None:  # the app downloads nothing
            raise StyleGANError(
                "no perceptual network on this machine (pip install --no-deps stlpips-pytorch==0.0.2, or "
                "`stylegan project` once to download NVIDIA's)"
            )
        with _perceptual_lock:
            net = _perceptual.get(str(device))
            if net is None:
                net = _perceptual[str(device)] = load_perceptual("auto", device=device)
    except (StyleGANError, OSError, ImportError, RuntimeError) as e:
        if loss == "lpips":
            raise StyleGANError(f"the LPIPS distance needs the perceptual network: {e}") from None
        return "mse", None, f"perceptual network unavailable ({e}): used mse"
    min_size = getattr(net, "min_size", 0)
    if G.img_resolution < min_size:
        msg = f"the perceptual network needs images of at least {min_size}px, this network makes {G.img_resolution}px"
        if loss == "lpips":
            raise StyleGANError(f"{msg}: choose the mse distance")
        return "mse", None, f"{msg}: used mse"
    return "lpips", net, ""


def encoder_start(ctx: UIContext, G: Any, target: np.ndarray) -> tuple[torch.Tensor | None, str, str]:
    """The encoder's latent for the target when the app has one (`stylegan ui --encoder F`), else None (w_avg).
    Returns (init ws or None, init name for the recipe, note)."""
    if not ctx.encoder:
        return None, "w_avg", ""
    from ...inversion.encoder import encoder_init

    try:
        ws, path = encoder_init(f"encoder:{ctx.encoder}", G, np.array(target[None]))
    except StyleGANError as e:
        return None, "w_avg", f"encoder not used ({e}): started from w_avg"
    return ws, f"encoder:{Path(path).name}", "started from the encoder"


# ---------------------------------------------------------------------------------------------------------
# One projection run (a worker thread) and its handle


@dataclass
class Run:
    """A projection in progress: its worker thread, the Stop flag its callback checks, and (once finished) the
    outputs for the page or an error."""

    stop: threading.Event = field(default_factory=threading.Event)
    updates: queue.Queue = field(default_factory=queue.Queue)
    thread: threading.Thread | None = None
    final: tuple[Any, ...] | None = None
    error: BaseException | None = None


#: The latest projection of each browser session / API client (what Stop stops); finished ones beyond MAX_RUNS
#: are dropped, oldest first.
_runs: dict[str, Run] = {}
_runs_lock = threading.Lock()
MAX_RUNS = 64


def _register(key: str, run: Run) -> None:
    with _runs_lock:
        _runs.pop(key, None)
        _runs[key] = run
        for old in [k for k, r in _runs.items() if r.thread is None or not r.thread.is_alive()]:
            if len(_runs) <= MAX_RUNS:
                break
            del _runs[old]


def _forget(key: str, run: Run) -> None:
    with _runs_lock:
        if _runs.get(key) is run:
            del _runs[key]


def _session(request: gr.Request | None) -> str:
    return str(getattr(request, "session_hash", None) or "default")


def _status(
    step: int, steps: int, distance: float, notes: list[str], *, stopped: bool = False, done: bool = False
) -> str:
    head = f"step {step}/{steps}, distance {distance:.4f}"
    if stopped:
        head = f"stopped at {head}"
    elif done:
        head = f"done: {head}"
    return "; ".join([head, *[n for n in notes if n]])


def _rgb(image: np.ndarray) -> np.ndarray:
    return np.repeat(image, 3, axis=2) if image.shape[2] == 1 else image


def _save_noise(path: Path, noise: dict[str, torch.Tensor]) -> Path:
    from ...fileio import atomic_write_bytes

    buf = io.BytesIO()
    arrays: dict[str, Any] = {k: v.numpy() for k, v in noise.items()}
    np.savez(buf, **arrays)
    atomic_write_bytes(path, buf.getvalue())
    return path


def start_run(
    ctx: UIContext,
    photo: Any,
    steps: float,
    space: str,
    loss: str,
    align: bool,
    class_idx: float,
    network: str,
) -> tuple[Run, Prepared, list[str]]:
    """Check the settings, prepare the target and start the worker thread; returns the run, the target, notes."""
    from ...inversion.projection import project, synthesize_with_noise

    model = ctx.model(network)
    G = model.G
    n_steps = int(steps)
    if not 1 <= n_steps <= 5000:
        raise StyleGANError(f"steps must be 1-5000, got {n_steps}")
    if space not in SPACES:
        raise StyleGANError(f"latent space must be w or w+, got {space!r}")
    cls = class_or_none(G, class_idx)
    if G.c_dim and cls is None:
        raise StyleGANError(f"this network is conditional ({G.c_dim} classes): pick a class 0-{G.c_dim - 1}")
    prepared = prepare_photo(photo, G.img_resolution, G.img_channels, bool(align))
    loss_used, net, loss_note = choose_loss(loss, G)
    init_ws, init_name, init_note = encoder_start(ctx, G, prepared.target)
    notes = [prepared.note, loss_note, init_note]
    run = Run()
    recipe_settings = {
        "steps": n_steps,
        "space": space,
        "loss": loss_used,
        "alignment": prepared.alignment,
        "init": init_name,
        "class": cls,
    }

    last_put = [0.0]

    def callback(s: Any) -> bool:
        now = time.monotonic()
        if now - last_put[0] >= LIVE_INTERVAL or s.step == s.steps:
            last_put[0] = now
            with torch.no_grad():
                maps = {k: v[0] for k, v in s.noise.items()}
                from ...images import to_uint8

                img = to_uint8(synthesize_with_noise(G, s.ws[:1].to(next(G.parameters()).device), maps))[0]
            run.updates.put(("step", s.step, s.steps, float(s.distances[0]), img))
        return run.stop.is_set()

    def work() -> None:
        try:
            res = project(
                G,
                prepared.target,
                steps=n_steps,
                space=cast("Space", space),
                loss=cast("Loss", loss_used),
                perceptual=net,
                init_ws=init_ws,
                class_idx=cls,
                progress=False,
                callback=callback,
            )
            done = int(res.distances.shape[1])
            image = res.images[0]
            recipe = ctx.base_recipe("photo", model, steps_done=done, stopped=bool(res.stopped), **recipe_settings)
            entry, query = ctx.keep(image, recipe, res.ws[:1])
            files = [str(entry.image)] + ([str(entry.latents)] if entry.latents else [])
            files.append(str(_save_noise(entry.image.with_name(f"{entry.id}-photo-noise.npz"), res.noise[0])))
            pasted = None
            if prepared.quad is not None:
                from ...images import save_image
                from ...inversion.alignment import paste_face

                pasted = paste_face(prepared.photo, _rgb(image), prepared.quad)
                files.append(str(save_image(pasted, entry.image.with_name(f"{entry.id}-photo-pasted.png"))))
            distance = res.final_distances[0]
            status = _status(done, n_steps, distance, notes, stopped=bool(res.stopped), done=not res.stopped)
            record = {"query": query, "files": files, "id": entry.id, "spec": f"history:{entry.id}"}
            run.final = (display(prepared.target[None])[0], display(image[None])[0], status, pasted, record)
        except BaseException as e:  # reported by the page's handler
            run.error = e
        finally:
            run.updates.put(("end",))

    run.thread = threading.Thread(target=work, name="stylegan-ui-project", daemon=True)
    run.thread.start()
    return run, prepared, notes


def build(ctx: UIContext) -> Page:
    t = ctx.t
    with gr.Tab(t("tab.photo"), id="photo"):
        with gr.Row():
            with gr.Column(scale=1):
                photo = gr.Image(
                    label=t("photo.upload"), type="numpy", image_mode="RGB", sources=["upload"], elem_id="photo-upload"
                )
                align = gr.Checkbox(True, label=t("photo.align"), info=t("photo.align_info"))
                steps = gr.Slider(10, 1000, value=200, step=10, label=t("photo.steps"), elem_id="photo-steps")
                space = gr.Radio(SPACES, value="w", label=t("photo.space"))
                loss = gr.Radio(LOSSES, value="auto", label=t("photo.loss"), info=t("photo.loss_info"))
                class_idx = gr.Number(0, label=t("common.class"), info=t("photo.class_info"), precision=0)
                with gr.Row():
                    button = gr.Button(t("photo.button"), variant="primary", elem_id="photo-project")
                    stop = gr.Button(t("common.stop"), variant="stop", elem_id="photo-stop")
            with gr.Column(scale=2):
                status = gr.Textbox(label=t("common.status"), interactive=False, elem_id="photo-status")
                with gr.Row():
                    target = gr.Image(label=t("photo.target"), format="png", interactive=False)
                    result = gr.Image(label=t("photo.result"), format="png", interactive=False, elem_id="photo-result")
                pasted = gr.Image(label=t("photo.pasted"), format="png", interactive=False)
                files = gr.File(
                    label=t("common.download"), file_count="multiple", interactive=False, elem_id="photo-files"
                )
                spec = gr.Textbox(label=t("photo.spec"), interactive=False)
                with gr.Row():
                    to_edit = gr.Button(t("photo.to_edit"), size="sm")
                    to_fuse = gr.Button(t("photo.to_fuse"), size="sm")
        record = gr.State()

    @user_errors
    def run(
        photo: Any,
        steps: float = 200,
        space: str = "w",
        loss: str = "auto",
        align: bool = True,
        class_idx: float = 0,
        network: str = "",
        request: gr.Request | None = None,
    ) -> Any:
        """Project a photo (its face aligned) into the network; streams the projection as it improves and ends
        with the target, the projection, a status line and the projection pasted back into the photo."""
        handle, prepared, notes = start_run(ctx, photo, steps, space, loss, align, class_idx, network)
        key = _session(request)
        _register(key, handle)
        shown_target = display(prepared.target[None])[0]
        try:
            yield shown_target, None, "; ".join(["starting", *[n for n in notes if n]]), None, gr.skip()
            while True:
                item = handle.updates.get()
                latest = None
                while item[0] == "step":  # show only the newest of the waiting updates
                    latest = item
                    try:
                        item = handle.updates.get_nowait()
                    except queue.Empty:
                        break
                if latest is not None:
                    _, k, n, d, img = latest
                    yield gr.skip(), display(img[None])[0], _status(k, n, d, notes), gr.skip(), gr.skip()
                if item[0] == "end":
                    break
            if handle.error is not None:
                _forget(key, handle)
                raise handle.error
            assert handle.final is not None
            yield handle.final  # the run stays registered: a late Stop shows this same result
        finally:
            handle.stop.set()  # closed early (cancelled, or the browser went away): the worker stops too

    def stop_run(request: gr.Request) -> Any:
        """Stop this session's projection where it is; returns its result (kept in the history)."""
        key = _session(request)
        with _runs_lock:
            handle = _runs.get(key)
        if handle is None or handle.thread is None:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
        handle.stop.set()
        handle.thread.join(timeout=120)
        _forget(key, handle)
        if handle.final is None:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
        return handle.final

    def show(r: dict[str, Any] | None) -> tuple[Any, Any, Any]:
        return (r["query"], r["files"], r["spec"]) if r else (gr.skip(), gr.skip(), gr.skip())

    outputs = [target, result, status, pasted, record]
    event = button.click(
        run,
        [photo, steps, space, loss, align, class_idx, ctx.network],
        outputs,
        api_name="project",
        **ctx.device_queue,
    )
    event.then(show, record, [ctx.share_query, files, spec], queue=False, api_visibility="private")
    # Not queued: a Stop must never wait behind other requests (nor be refused when the queue is full).
    stop.click(stop_run, None, outputs, cancels=[event], queue=False, api_visibility="private").then(
        show, record, [ctx.share_query, files, spec], queue=False, api_visibility="private"
    )
    ctx.handovers.append((to_edit, spec, "edit"))
    ctx.handovers.append((to_fuse, spec, "fuse"))

    def restore(recipe: dict[str, Any]) -> list[Any]:
        def value(key: str, default: Any) -> Any:
            v = recipe.get(key)
            return default if v is None else v

        loss_value = value("loss", "auto")
        return [
            value("steps", 200),
            value("space", "w"),
            loss_value if loss_value in LOSSES else "auto",
            value("alignment", "face") == "face",
            value("class", 0),
        ]

    return Page("photo", [steps, space, loss, align, class_idx], restore)
