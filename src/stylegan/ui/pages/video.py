"""Video: interpolation through keyframes, a sweep along a direction file, and identity sets (variations of one
latent, as a zip of PNGs and a contact sheet); the `/video`, `/video_sweep` and `/variations` API endpoints."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np
import torch

from ...errors import StyleGANError
from ...fileio import atomic_write_bytes
from ...images import make_grid
from ...video import INTERPOLATIONS, interpolation_ws, video_frames
from ..context import (
    MAX_IMAGES,
    NOISE_MODES,
    Page,
    UIContext,
    check_count,
    class_or_none,
    cutoff_or_none,
    display,
    file_path,
    streamed,
    user_errors,
)
from .edit import (
    VIDEO_FORMATS,
    check_frames,
    direction_files,
    file_video,
    full_recipe,
    layer_indices,
    sweep_walk,
    video_outputs,
    write_walk,
)

LABELS = {
    "en": {
        "tab.video": "Video",
        "video.settings": "Latent and video settings",
        "video.fps": "Frames per second",
        "video.format": "Format",
        "video.interp_tab": "Interpolation",
        "video.keyframes": "Keyframes, one per line (a seed, seed:N, history:ID or a latent file)",
        "video.interp": "Interpolation",
        "video.frames_per_key": "Frames per keyframe",
        "video.loop": "Loop (back to the first keyframe)",
        "video.make": "Make video",
        "video.mp4": "Video (MP4)",
        "video.gif": "Video (GIF)",
        "video.sweep_tab": "Direction sweep",
        "video.latent": "Latent to sweep (seed:N, history:ID or a latent file)",
        "video.direction": "Direction file (.npz / .npy)",
        "video.startup": "Or a direction file given at start-up",
        "video.component": "Component",
        "video.range": "Range (from -range to +range)",
        "video.frames": "Frames",
        "video.layers": "Layers (empty: the file's own)",
        "video.force": "Force: apply a direction file made for another network",
        "video.sweep": "Make sweep",
        "video.var_tab": "Identity set",
        "video.var_latent": "Latent (seed:N, history:ID or a latent file)",
        "video.count": "Number of variations",
        "video.strength": "Strength (1: layers replaced)",
        "video.var_seed": "Seed of the variations",
        "video.var_layers": "Layers re-drawn (0: pose and shape, identity kept)",
        "video.var_button": "Make identity set",
        "video.sheet": "Contact sheet",
        "video.zip": "PNGs (zip)",
    },
    "zh": {
        "tab.video": "视频",
        "video.settings": "潜码与视频设置",
        "video.fps": "每秒帧数",
        "video.format": "格式",
        "video.interp_tab": "插值",
        "video.keyframes": "关键帧，每行一个（种子、seed:N、history:编号 或潜码文件）",
        "video.interp": "插值方式",
        "video.frames_per_key": "每个关键帧的帧数",
        "video.loop": "循环（回到第一个关键帧）",
        "video.make": "制作视频",
        "video.mp4": "视频（MP4）",
        "video.gif": "视频（GIF）",
        "video.sweep_tab": "方向扫描",
        "video.latent": "要扫描的潜码（seed:N、history:编号 或潜码文件）",
        "video.direction": "方向文件（.npz / .npy）",
        "video.startup": "或启动时给出的方向文件",
        "video.component": "分量",
        "video.range": "范围（从 -范围 到 +范围）",
        "video.frames": "帧数",
        "video.layers": "层（留空：文件自带的层）",
        "video.force": "强制：应用为其他网络制作的方向文件",
        "video.sweep": "制作扫描",
        "video.var_tab": "身份集",
        "video.var_latent": "潜码（seed:N、history:编号 或潜码文件）",
        "video.count": "变体数量",
        "video.strength": "强度（1：完全替换这些层）",
        "video.var_seed": "变体的种子",
        "video.var_layers": "重新抽取的层（0：姿态与形状，身份保持）",
        "video.var_button": "制作身份集",
        "video.sheet": "总览图",
        "video.zip": "PNG 文件（zip）",
    },
}

_SEEDS = re.compile(r"^\d+(\s*-\s*\d+)?(\s*,\s*\d+(\s*-\s*\d+)?)*$")


def _keyframes(
    ctx: UIContext, model: Any, text: str, psi: float, cut: int | None, cls: int | None
) -> tuple[list[int] | None, torch.Tensor | None]:
    """Keyframe lines -> (seeds, None) when every line is a plain seed (or range), else (None, latents)."""
    lines = [ln.strip() for ln in str(text or "").splitlines() if ln.strip() and not ln.strip().startswith("#")]
    if not lines:
        raise StyleGANError("no keyframes: give at least two, one per line (a seed, seed:N or history:ID)")
    if all(_SEEDS.match(ln) for ln in lines):
        seeds = [s for ln in lines for s in ctx.parse_seeds(ln, "keyframes")]
        check_count(len(seeds), "keyframes")
        return seeds, None
    specs = [f"seed:{ln}" if _SEEDS.match(ln) else ln for ln in lines]
    ws = torch.cat([ctx.latents(model, s, psi=psi, cutoff=cut, class_idx=cls) for s in specs])
    check_count(len(ws), "keyframes")
    return None, ws


def make_video(
    ctx: UIContext,
    keyframes: str,
    interp: str = "lerp-w",
    frames_per_key: float = 30,
    loop: bool = False,
    fps: float = 30,
    fmt: str = "mp4",
    psi: float = 0.7,
    cutoff: float = -1,
    class_idx: float = -1,
    noise: str = "const",
    noise_seed: float = 0,
    network: str = "",
) -> tuple[Any, Any, dict[str, Any]]:
    """An interpolation video through the keyframes: (mp4 or None, gif or None, record)."""
    model = ctx.model(network)
    cut, cls = cutoff_or_none(cutoff), class_or_none(model.G, class_idx)
    if interp not in INTERPOLATIONS:
        raise StyleGANError(f"interpolation must be one of {', '.join(INTERPOLATIONS)}, got {interp!r}")
    seeds, keys = _keyframes(ctx, model, keyframes, float(psi), cut, cls)
    n_keys = len(seeds) if seeds is not None else len(keys if keys is not None else [])
    fpk, total = video_frames(n_keys, frames_per_key=int(frames_per_key), fps=float(fps), loop=bool(loop))
    check_frames(total)
    walk = interpolation_ws(
        model.G,
        seeds=seeds,
        latents=keys,
        interp=interp,
        frames_per_key=fpk,
        loop=bool(loop),
        psi=float(psi),
        truncation_cutoff=cut,
        class_idx=cls,
    )
    path = write_walk(ctx, model, walk, fmt, float(fps), noise, int(noise_seed))
    if keys is None:  # the keyframes' latents: the walk passes through them every fpk frames
        keys = walk[::fpk][:n_keys]
    recipe = ctx.base_recipe(
        "video",
        model,
        mode="interpolation",
        keyframes=str(keyframes).strip(),
        interp=interp,
        frames_per_key=fpk,
        loop=bool(loop),
        fps=float(fps),
        format=fmt,
        psi=float(psi),
        cutoff=cut,
        noise=noise,
        noise_seed=int(noise_seed),
        **{"class": cls},
    )
    if seeds is not None:
        recipe["seeds"] = ",".join(map(str, seeds))
    middle = ctx.render(model, walk[len(walk) // 2 : len(walk) // 2 + 1], noise, int(noise_seed))[0]
    entry, query = ctx.keep(middle, recipe, keys)
    path = file_video(path, entry.id, "video")
    files = [str(path), str(entry.image)] + ([str(entry.latents)] if entry.latents else [])
    mp4, gif = video_outputs(path)
    return mp4, gif, {"query": query, "files": files, "id": entry.id, "spec": f"history:{entry.id}"}


def make_sweep(
    ctx: UIContext,
    latent: str,
    direction: Any = None,
    startup: str | None = None,
    component: float = 0,
    amount: float = 3.0,
    frames: float = 30,
    layers: str = "",
    fps: float = 30,
    fmt: str = "mp4",
    force: bool = False,
    psi: float = 0.7,
    cutoff: float = -1,
    class_idx: float = -1,
    noise: str = "const",
    noise_seed: float = 0,
    network: str = "",
) -> tuple[Any, Any, dict[str, Any]]:
    """A video of one latent swept along a direction file (uploaded, or one given at start-up)."""
    model = ctx.model(network)
    uploaded = file_path(direction)
    files = direction_files(ctx, [uploaded] if uploaded else [])
    name = Path(uploaded).name if uploaded else str(startup or "").strip()
    if not name:
        raise StyleGANError("no direction file: upload one (or start the app with --direction FILE)")
    cut, cls = cutoff_or_none(cutoff), class_or_none(model.G, class_idx)
    ws = ctx.latents(model, latent, psi=float(psi), cutoff=cut, class_idx=cls)
    walk, ends, part = sweep_walk(
        model, ws, f"{name}:{int(component)}", layers, amount, int(frames), files, bool(force)
    )
    path = write_walk(ctx, model, walk, fmt, float(fps), noise, int(noise_seed))
    recipe = ctx.base_recipe(
        "video",
        model,
        mode="sweep",
        latent=str(latent).strip(),
        sweep=part,
        fps=float(fps),
        format=fmt,
        force=bool(force),
        psi=float(psi),
        cutoff=cut,
        noise=noise,
        noise_seed=int(noise_seed),
        **{"class": cls},
    )
    middle = ctx.render(model, walk[len(walk) // 2 : len(walk) // 2 + 1], noise, int(noise_seed))[0]
    entry, query = ctx.keep(middle, recipe, ends)
    path = file_video(path, entry.id, "sweep")
    files_out = [str(path), str(entry.image)] + ([str(entry.latents)] if entry.latents else [])
    mp4, gif = video_outputs(path)
    return mp4, gif, {"query": query, "files": files_out, "id": entry.id, "spec": f"history:{entry.id}"}


def make_variations(
    ctx: UIContext,
    latent: str,
    n: float = 50,
    strength: float = 1.0,
    seed: float = 0,
    layers: str = "0",
    psi: float = 0.7,
    cutoff: float = -1,
    class_idx: float = -1,
    noise: str = "const",
    noise_seed: float = 0,
    network: str = "",
) -> tuple[np.ndarray, str, dict[str, Any]]:
    """The identity set of one latent: `variations` re-drawing `layers`; (contact sheet, zip of PNGs, record)."""
    from ...editing.latent_ops import variations

    model = ctx.model(network)
    count = int(n)
    if count < 1:
        raise StyleGANError(f"the number of variations must be at least 1, got {count}")
    check_count(count, "variations")
    if not np.isfinite(float(strength)):
        raise StyleGANError("strength must be a finite number")
    cut, cls = cutoff_or_none(cutoff), class_or_none(model.G, class_idx)
    idx = layer_indices(model, layers or "0", "layers")
    ws = ctx.latents(model, latent, psi=float(psi), cutoff=cut, class_idx=cls)
    recipe = ctx.base_recipe(
        "video",
        model,
        mode="variations",
        latent=str(latent).strip(),
        n=count,
        strength=float(strength),
        seed=int(seed),
        layers=str(layers or "0").strip(),
        psi=float(psi),
        cutoff=cut,
        noise=noise,
        noise_seed=int(noise_seed),
        **{"class": cls},
    )

    def make() -> tuple[np.ndarray, torch.Tensor]:
        out = variations(
            model.G,
            ws[:1],
            count,
            layers=idx,
            strength=float(strength),
            seed=int(seed),
            psi=float(psi),
            class_idx=cls,
        )
        return ctx.render(model, out, noise, int(noise_seed)), out

    images, vws = ctx.cache.get_or_make(recipe, make)
    cols = int(np.ceil(np.sqrt(count)))
    sheet = make_grid(images, int(np.ceil(count / cols)), cols)
    entry, query = ctx.keep(sheet, recipe, vws)
    folder = ctx.workdir / "variations"
    folder.mkdir(parents=True, exist_ok=True)
    archive = folder / f"{entry.id}-variations.zip"
    buf = io.BytesIO()
    from PIL import Image

    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for i, img in enumerate(images):
            png = io.BytesIO()
            Image.fromarray(img[..., 0] if img.shape[-1] == 1 else img).save(png, format="PNG")
            zf.writestr(f"variation-{i:03d}.png", png.getvalue())
    atomic_write_bytes(archive, buf.getvalue())
    files = [str(archive), str(entry.image)] + ([str(entry.latents)] if entry.latents else [])
    record = {"query": query, "files": files, "id": entry.id, "spec": f"history:{entry.id}"}
    return display(sheet[None], min_size=512)[0], str(archive), record


def build(ctx: UIContext) -> Page:
    t = ctx.t
    startup = [Path(p).name for p in ctx.directions]
    with gr.Tab(t("tab.video"), id="video"):
        with gr.Accordion(t("video.settings"), open=False):
            with gr.Row():
                psi = gr.Slider(-1.0, 2.0, value=0.7, step=0.05, label=t("common.psi"))
                cutoff = gr.Number(-1, label=t("common.cutoff"), precision=0, minimum=-1)
                class_idx = gr.Number(-1, label=t("common.class"), precision=0)
            with gr.Row():
                noise = gr.Radio(NOISE_MODES, value="const", label=t("common.noise"))
                noise_seed = gr.Number(0, label=t("common.noise_seed"), precision=0, minimum=0)
                fps = gr.Number(30, label=t("video.fps"), minimum=1, maximum=120)
                fmt = gr.Radio(VIDEO_FORMATS, value="mp4", label=t("video.format"))
        with gr.Tabs() as modes:
            with gr.Tab(t("video.interp_tab"), id="interpolation"):
                with gr.Row():
                    with gr.Column(scale=1):
                        keyframes = gr.Textbox("0\n1\n2", label=t("video.keyframes"), lines=4)
                        interp = gr.Radio(list(INTERPOLATIONS), value="lerp-w", label=t("video.interp"))
                        with gr.Row():
                            frames_per_key = gr.Number(30, label=t("video.frames_per_key"), precision=0, minimum=1)
                            loop = gr.Checkbox(False, label=t("video.loop"))
                        with gr.Row():
                            make_btn = gr.Button(t("video.make"), variant="primary")
                            make_stop = gr.Button(t("common.stop"), variant="stop")
                    with gr.Column(scale=1):
                        mp4_out = gr.Video(label=t("video.mp4"), height=320)
                        gif_out = gr.Image(label=t("video.gif"), type="filepath", interactive=False, height=320)
            with gr.Tab(t("video.sweep_tab"), id="sweep"):
                with gr.Row():
                    with gr.Column(scale=1):
                        sweep_latent = gr.Textbox("seed:3", label=t("video.latent"))
                        direction = gr.File(
                            label=t("video.direction"), file_types=[".npz", ".npy"], elem_id="video-direction"
                        )
                        startup_dir = gr.Dropdown(
                            startup,
                            value=startup[0] if startup else None,
                            label=t("video.startup"),
                            allow_custom_value=True,
                        )
                        with gr.Row():
                            component = gr.Number(0, label=t("video.component"), precision=0, minimum=0)
                            sweep_range = gr.Number(3.0, label=t("video.range"), minimum=0)
                            sweep_frames = gr.Number(30, label=t("video.frames"), precision=0, minimum=2)
                        sweep_layers = gr.Textbox("", label=t("video.layers"))
                        force = gr.Checkbox(False, label=t("video.force"))
                        with gr.Row():
                            sweep_btn = gr.Button(t("video.sweep"), variant="primary")
                            sweep_stop = gr.Button(t("common.stop"), variant="stop")
                    with gr.Column(scale=1):
                        sweep_mp4 = gr.Video(label=t("video.mp4"), height=320)
                        sweep_gif = gr.Image(label=t("video.gif"), type="filepath", interactive=False, height=320)
            with gr.Tab(t("video.var_tab"), id="variations"):
                with gr.Row():
                    with gr.Column(scale=1):
                        var_latent = gr.Textbox("seed:3", label=t("video.var_latent"))
                        with gr.Row():
                            count = gr.Number(50, label=t("video.count"), precision=0, minimum=1, maximum=MAX_IMAGES)
                            var_seed = gr.Number(0, label=t("video.var_seed"), precision=0, minimum=0)
                        strength = gr.Slider(0.0, 1.5, value=1.0, step=0.05, label=t("video.strength"))
                        var_layers = gr.Textbox("0", label=t("video.var_layers"))
                        with gr.Row():
                            var_btn = gr.Button(t("video.var_button"), variant="primary")
                            var_stop = gr.Button(t("common.stop"), variant="stop")
                    with gr.Column(scale=1):
                        sheet = gr.Image(label=t("video.sheet"), format="png", interactive=False)
                        archive = gr.File(label=t("video.zip"), interactive=False, elem_id="video-zip")
        downloads = gr.File(label=t("common.download"), file_count="multiple", interactive=False)
        record = gr.State()

    settings = [psi, cutoff, class_idx, noise, noise_seed, ctx.network]

    @user_errors
    @streamed(3)
    def run_video(
        keyframes: str,
        interp: str = "lerp-w",
        frames_per_key: float = 30,
        loop: bool = False,
        fps: float = 30,
        fmt: str = "mp4",
        psi: float = 0.7,
        cutoff: float = -1,
        class_idx: float = -1,
        noise: str = "const",
        noise_seed: float = 0,
        network: str = "",
    ) -> tuple[Any, Any, dict[str, Any]]:
        """An interpolation video (mp4 or gif) through keyframes, one per line (seeds or latent specs); `interp`
        is lerp-w, slerp-z (seeds only) or cubic-w."""
        return make_video(
            ctx, keyframes, interp, frames_per_key, loop, fps, fmt, psi, cutoff, class_idx, noise, noise_seed, network
        )

    @user_errors
    @streamed(3)
    def run_sweep(
        latent: str,
        direction: Any = None,
        startup: str | None = None,
        component: float = 0,
        amount: float = 3.0,
        frames: float = 30,
        layers: str = "",
        fps: float = 30,
        fmt: str = "mp4",
        force: bool = False,
        psi: float = 0.7,
        cutoff: float = -1,
        class_idx: float = -1,
        noise: str = "const",
        noise_seed: float = 0,
        network: str = "",
    ) -> tuple[Any, Any, dict[str, Any]]:
        """A video of `latent` swept from -amount to +amount along a direction file's component."""
        return make_sweep(
            ctx,
            latent,
            direction,
            startup,
            component,
            amount,
            frames,
            layers,
            fps,
            fmt,
            force,
            psi,
            cutoff,
            class_idx,
            noise,
            noise_seed,
            network,
        )

    @user_errors
    @streamed(3)
    def run_variations(
        latent: str,
        n: float = 50,
        strength: float = 1.0,
        seed: float = 0,
        layers: str = "0",
        psi: float = 0.7,
        cutoff: float = -1,
        class_idx: float = -1,
        noise: str = "const",
        noise_seed: float = 0,
        network: str = "",
    ) -> tuple[np.ndarray, str, dict[str, Any]]:
        """`n` variations of one latent re-drawing `layers` (layer 0 by default): the contact sheet and a zip of
        the PNGs."""
        return make_variations(
            ctx, latent, n, strength, seed, layers, psi, cutoff, class_idx, noise, noise_seed, network
        )

    def show(r: dict[str, Any] | None) -> tuple[Any, Any]:
        return (r["query"], r["files"]) if r else (gr.skip(), gr.skip())

    video_event = make_btn.click(
        run_video,
        [keyframes, interp, frames_per_key, loop, fps, fmt, *settings],
        [mp4_out, gif_out, record],
        api_name="video",
        **ctx.device_queue,
    )
    video_event.then(show, record, [ctx.share_query, downloads], queue=False, api_visibility="private")
    sweep_event = sweep_btn.click(
        run_sweep,
        [
            sweep_latent,
            direction,
            startup_dir,
            component,
            sweep_range,
            sweep_frames,
            sweep_layers,
            fps,
            fmt,
            force,
            *settings,
        ],
        [sweep_mp4, sweep_gif, record],
        api_name="video_sweep",
        **ctx.device_queue,
    )
    sweep_event.then(show, record, [ctx.share_query, downloads], queue=False, api_visibility="private")
    var_event = var_btn.click(
        run_variations,
        [var_latent, count, strength, var_seed, var_layers, *settings],
        [sheet, archive, record],
        api_name="variations",
        **ctx.device_queue,
    )
    var_event.then(show, record, [ctx.share_query, downloads], queue=False, api_visibility="private")
    for stop, event in ((make_stop, video_event), (sweep_stop, sweep_event), (var_stop, var_event)):
        stop.click(None, None, None, cancels=[event], queue=False, api_visibility="private")

    restore_outputs = [
        modes,
        keyframes,
        interp,
        frames_per_key,
        loop,
        fps,
        fmt,
        psi,
        cutoff,
        class_idx,
        noise,
        noise_seed,
        sweep_latent,
        startup_dir,
        component,
        sweep_range,
        sweep_frames,
        sweep_layers,
        force,
        var_latent,
        count,
        strength,
        var_seed,
        var_layers,
    ]

    def restore(recipe: dict[str, Any]) -> list[Any]:
        recipe = full_recipe(ctx, recipe)
        mode = recipe.get("mode") if recipe.get("mode") in ("interpolation", "sweep", "variations") else None

        def value(key: str, default: Any, only: str | None = None) -> Any:
            if only is not None and mode != only:
                return gr.skip()
            v = recipe.get(key)
            return default if v is None else v

        sweep = recipe.get("sweep") if isinstance(recipe.get("sweep"), dict) else {}
        keys = recipe.get("keyframes") if mode == "interpolation" else None
        if not keys and recipe.get("seeds") and mode in (None, "interpolation"):
            keys = "\n".join(str(recipe["seeds"]).split(","))
        return [
            gr.Tabs(selected=mode) if mode else gr.skip(),
            keys or gr.skip(),
            value("interp", "lerp-w", "interpolation"),
            value("frames_per_key", 30, "interpolation"),
            value("loop", False, "interpolation"),
            value("fps", 30),
            value("format", "mp4"),
            value("psi", 0.7),
            value("cutoff", -1),
            value("class", -1),
            value("noise", "const"),
            value("noise_seed", 0),
            value("latent", "seed:3", "sweep"),
            sweep.get("source", gr.skip()) if sweep else gr.skip(),
            sweep.get("component", 0) if sweep else gr.skip(),
            sweep.get("range", 3.0) if sweep else gr.skip(),
            sweep.get("frames", 30) if sweep else gr.skip(),
            sweep.get("layers", "") if sweep else gr.skip(),
            value("force", False, "sweep"),
            value("latent", "seed:3", "variations"),
            value("n", 50, "variations"),
            value("strength", 1.0, "variations"),
            value("seed", 0, "variations"),
            value("layers", "0", "variations"),
        ]

    def accept(current: Any, spec: str) -> str:
        text = str(current or "").rstrip()
        return f"{text}\n{spec}" if text else spec

    return Page("video", restore_outputs, restore, latent_input=keyframes, accept=accept)
