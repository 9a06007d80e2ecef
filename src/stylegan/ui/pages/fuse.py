"""Fuse: the weighted average in W of two or more faces or latents, optionally weighted per layer group; the
`/fuse` API endpoint."""

from __future__ import annotations

from typing import Any

import gradio as gr
import numpy as np
import torch

from ..context import MAX_IMAGES, NOISE_MODES, Page, UIContext, display, user_errors
from . import _cmf_helpers as h

LABELS = {
    "en": {
        "tab.fuse": "Fuse",
        "fuse.specs": "Parents, one per line: seed:N or history:ID (seed:0-2 gives three)",
        "fuse.files": "Or add latent files (.npz / .npy)",
        "fuse.weights": "Weights, one per parent (e.g. 1,1; empty: equal)",
        "fuse.by_group": "Separate weights per layer group",
        "fuse.coarse": "Coarse layers' weights (empty: as above)",
        "fuse.middle": "Middle layers' weights (empty: as above)",
        "fuse.fine": "Fine layers' weights (empty: as above)",
        "fuse.button": "Fuse",
        "fuse.latent": "The fused latent (.npz)",
        "fuse.parents": "Parents",
        "fuse.to_edit": "Send to Edit",
        "fuse.spec": "This result as a latent",
    },
    "zh": {
        "tab.fuse": "融合",
        "fuse.specs": "父本，每行一个：seed:N 或 history:编号（seed:0-2 表示三个）",
        "fuse.files": "或添加潜码文件（.npz / .npy）",
        "fuse.weights": "权重，每个父本一个（例如 1,1；留空：相等）",
        "fuse.by_group": "按层组分别设置权重",
        "fuse.coarse": "粗层权重（留空：同上）",
        "fuse.middle": "中层权重（留空：同上）",
        "fuse.fine": "细层权重（留空：同上）",
        "fuse.button": "融合",
        "fuse.latent": "融合后的潜码（.npz）",
        "fuse.parents": "父本",
        "fuse.to_edit": "发送到编辑",
        "fuse.spec": "此结果的潜码",
    },
}


def parent_latents(ctx: UIContext, model: Any, specs: str, files: Any, psi: float) -> list[torch.Tensor]:
    """One [1, num_ws, w_dim] latent per parent: every latent of each spec line, then of each uploaded file."""
    lines = [line.strip() for line in str(specs or "").splitlines() if line.strip() and not line.startswith("#")]
    parents: list[torch.Tensor] = []
    for line in lines:
        ws = h.resolve_text_spec(ctx, model, line, psi=psi)
        parents += [w[None] for w in ws.float()]
        if len(parents) > MAX_IMAGES:
            h.check_parents(len(parents))
    items = files if isinstance(files, (list, tuple)) else ([files] if files is not None else [])
    for item in items:
        ws = h.resolve_upload(ctx, model, item)
        if ws is not None:
            parents += [w[None] for w in ws.float()]
    h.check_parents(len(parents))
    return parents


def fuse_faces(
    ctx: UIContext,
    specs: str,
    files: Any = None,
    weights: str = "",
    by_group: bool = False,
    coarse: str = "",
    middle: str = "",
    fine: str = "",
    psi: float = 0.7,
    noise: str = "const",
    noise_seed: float = 0,
    network: str = "",
) -> tuple[np.ndarray, str, list[tuple[np.ndarray, str]], dict[str, Any]]:
    """Fuse the parents; returns (image, latent file, parents gallery, record)."""
    model = ctx.model(network)
    psi, noise_seed = float(psi), int(noise_seed or 0)
    parents = parent_latents(ctx, model, specs, files, psi)
    n = len(parents)
    w = h.parse_weights(weights, n)
    group_texts = {"coarse": coarse, "middle": middle, "fine": fine} if by_group else {}
    group_weights = {g: h.parse_weights(text, n, f"{g} weights") for g, text in group_texts.items()}
    ws = h.fuse_by_groups(parents, w, group_weights)
    settings: dict[str, Any] = {
        "latents": str(specs or "").strip(),
        "files": h.upload_names(files),
        "weights": str(weights or "").strip(),
        "by_group": bool(by_group),
        "psi": psi,
        "noise": noise,
        "noise_seed": noise_seed,
        "title": " + ".join(str(specs or "").split()) or "files",
    }
    if by_group:
        for g, text in group_texts.items():
            settings[g] = str(text or "").strip()
    recipe = ctx.base_recipe("fuse", model, **settings)
    image = ctx.render(model, ws, noise, noise_seed)[0]  # alone: the image of the kept latent, as the library makes it
    entry, query = ctx.keep(image, recipe, ws)
    shown = display(ctx.render(model, torch.cat(parents), noise, noise_seed))
    gallery = [(img, f"parent {i + 1}") for i, img in enumerate(shown)]
    files_out = [str(entry.image)] + ([str(entry.latents)] if entry.latents else [])
    record = {"query": query, "files": files_out, "id": entry.id, "spec": f"history:{entry.id}"}
    return display(image[None])[0], str(entry.latents), gallery, record


def append_spec(current: Any, spec: str) -> str:
    """A handed-over latent becomes one more parent (a new line)."""
    text = str(current or "").rstrip()
    return f"{text}\n{spec}" if text else str(spec)


def build(ctx: UIContext) -> Page:
    t = ctx.t
    with gr.Tab(t("tab.fuse"), id="fuse"):
        with gr.Row():
            with gr.Column(scale=1):
                specs = gr.Textbox("seed:1\nseed:2", lines=4, label=t("fuse.specs"))
                files = gr.File(label=t("fuse.files"), file_count="multiple", file_types=[".npz", ".npy"])
                weights = gr.Textbox("1,1", label=t("fuse.weights"))
                by_group = gr.Checkbox(False, label=t("fuse.by_group"))
                with gr.Group(visible=False) as group_box:
                    coarse = gr.Textbox("", label=t("fuse.coarse"))
                    middle = gr.Textbox("", label=t("fuse.middle"))
                    fine = gr.Textbox("", label=t("fuse.fine"))
                psi = gr.Slider(-1.0, 2.0, value=0.7, step=0.05, label=t("common.psi"))
                noise = gr.Radio(NOISE_MODES, value="const", label=t("common.noise"))
                noise_seed = gr.Number(0, label=t("common.noise_seed"), precision=0, minimum=0)
                button = gr.Button(t("fuse.button"), variant="primary")
            with gr.Column(scale=2):
                image = gr.Image(label=t("common.result"), format="png", type="numpy", interactive=False)
                latent = gr.File(label=t("fuse.latent"), interactive=False)
                parents = gr.Gallery(label=t("fuse.parents"), columns=6, format="png", height=200, object_fit="contain")
                downloads = gr.File(label=t("common.download"), file_count="multiple", interactive=False)
                spec = gr.Textbox(label=t("fuse.spec"), interactive=False)
                to_edit = gr.Button(t("fuse.to_edit"), size="sm")
        record = gr.State()

    @user_errors
    def run(
        specs: str,
        files: Any = None,
        weights: str = "",
        by_group: bool = False,
        coarse: str = "",
        middle: str = "",
        fine: str = "",
        psi: float = 0.7,
        noise: str = "const",
        noise_seed: float = 0,
        network: str = "",
    ) -> tuple[np.ndarray, str, list[tuple[np.ndarray, str]], dict[str, Any]]:
        """Fuse two or more latents (`specs`: one seed:N / history:ID per line, plus uploaded `files`) with
        `weights` (e.g. "1,1"); with `by_group`, the coarse/middle/fine layers use their own weights where given.
        Returns the image, its latent file and the parents."""
        return fuse_faces(ctx, specs, files, weights, by_group, coarse, middle, fine, psi, noise, noise_seed, network)

    def show_record(r: dict[str, Any] | None) -> tuple[Any, Any, Any]:
        return (r["query"], r["files"], r["spec"]) if r else (gr.skip(), gr.skip(), gr.skip())

    by_group.change(lambda on: gr.update(visible=on), by_group, group_box, queue=False, api_visibility="private")
    button.click(
        run,
        [specs, files, weights, by_group, coarse, middle, fine, psi, noise, noise_seed, ctx.network],
        [image, latent, parents, record],
        api_name="fuse",
        **ctx.device_queue,
    ).then(show_record, record, [ctx.share_query, downloads, spec], queue=False, api_visibility="private")
    ctx.handovers.append((to_edit, spec, "edit"))

    def restore(recipe: dict[str, Any]) -> list[Any]:
        def value(key: str, default: Any) -> Any:
            v = recipe.get(key)
            return default if v is None else v

        return [
            value("latents", gr.skip()),
            value("weights", ""),
            bool(recipe.get("by_group")),
            value("coarse", ""),
            value("middle", ""),
            value("fine", ""),
            value("psi", 0.7),
            value("noise", "const"),
            value("noise_seed", 0),
        ]

    return Page(
        "fuse",
        [specs, weights, by_group, coarse, middle, fine, psi, noise, noise_seed],
        restore,
        latent_input=specs,
        accept=append_spec,
    )
