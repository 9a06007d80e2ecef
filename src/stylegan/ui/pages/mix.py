"""Mix: the style-mixing figure of the StyleGAN paper (row seeds take layers from column seeds); `/mix` endpoint."""

from __future__ import annotations

from typing import Any

import gradio as gr
import numpy as np
import torch

from ...errors import StyleGANError
from ...generation import seeds_to_ws, style_mix
from ...latents import mix_styles
from ..context import MAX_IMAGES, NOISE_MODES, Page, UIContext, display, noise_mode, user_errors
from . import _cmf_helpers as h

PRESETS = [*h.GROUPS, "custom"]

LABELS = {
    "en": {
        "tab.mix": "Mix",
        "mix.rows": "Row seeds (they keep the other layers)",
        "mix.cols": "Column seeds (they give the chosen layers)",
        "mix.preset": "Layers from the column seeds",
        "mix.custom": "Custom layers (0-based, e.g. 0-3 or 4,5)",
        "mix.groups": "Layer groups on the loaded network:",
        "mix.button": "Mix",
        "mix.figure": "Style-mixing figure (top row: column seeds; left column: row seeds)",
        "mix.mixes": "Each mix (row x column)",
    },
    "zh": {
        "tab.mix": "混合",
        "mix.rows": "行种子（保留其余层）",
        "mix.cols": "列种子（提供所选层）",
        "mix.preset": "取自列种子的层",
        "mix.custom": "自定义层（从 0 开始，例如 0-3 或 4,5）",
        "mix.groups": "当前网络的层组：",
        "mix.button": "混合",
        "mix.figure": "风格混合图（顶行：列种子；左列：行种子）",
        "mix.mixes": "每个混合结果（行 x 列）",
    },
}


def mix_layers(G: Any, preset: str, custom: str) -> tuple[list[int], str]:
    """The layer indices of a preset (coarse/middle/fine) or of the custom text; and the text kept in the recipe."""
    preset = str(preset or "").strip()
    if preset in h.GROUPS:
        idx = h.parse_layer_text(preset, G.num_ws)
        if not idx:
            raise StyleGANError(f"the {preset} group is empty on this network ({G.num_ws} layers): pick another")
        return idx, preset
    if preset != "custom":
        raise StyleGANError(f"layers must be one of {', '.join(PRESETS)}, got {preset[:40]!r}")
    text = str(custom or "").strip()
    return h.parse_layer_text(text, G.num_ws), text


def mix_figure(
    ctx: UIContext,
    rows: str,
    cols: str,
    preset: str = "coarse",
    custom: str = "",
    psi: float = 1.0,
    noise: str = "const",
    noise_seed: float = 0,
    network: str = "",
) -> tuple[np.ndarray, list[tuple[np.ndarray, str]], dict[str, Any]]:
    """The style-mixing figure and each mix; returns (figure, gallery, record)."""
    model = ctx.model(network)
    G = model.G
    row_seeds, col_seeds = ctx.parse_seeds(rows, "row seeds"), ctx.parse_seeds(cols, "column seeds")
    if len(row_seeds) * len(col_seeds) > MAX_IMAGES:
        raise StyleGANError(
            f"{len(row_seeds)} rows x {len(col_seeds)} columns = {len(row_seeds) * len(col_seeds)} mixes; "
            f"at most {MAX_IMAGES} per request"
        )
    if noise not in NOISE_MODES:
        raise StyleGANError(f"noise must be one of {', '.join(NOISE_MODES)}, got {noise!r}")
    layers, layer_text = mix_layers(G, preset, custom)
    psi, noise_seed = float(psi), int(noise_seed or 0)
    recipe = ctx.base_recipe(
        "mix",
        model,
        rows=str(rows).strip(),
        cols=str(cols).strip(),
        layers=layer_text,
        psi=psi,
        noise=noise,
        noise_seed=noise_seed,
        title=f"{rows} x {cols} {layer_text}",
    )

    def make() -> Any:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(noise_seed)
            return style_mix(G, row_seeds, col_seeds, layers, psi=psi, noise_mode=noise_mode(noise), progress=False)

    mix = ctx.cache.get_or_make(recipe, make)
    pairs = [(r, c) for r in row_seeds for c in col_seeds]
    all_seeds = list(dict.fromkeys(row_seeds + col_seeds))
    ws_all = seeds_to_ws(G, all_seeds, psi=psi).cpu()
    w_of = {s: ws_all[i : i + 1] for i, s in enumerate(all_seeds)}
    ws = torch.cat([mix_styles(w_of[r], w_of[c], layers) for r, c in pairs])
    entry, query = ctx.keep(mix.grid, recipe, ws)
    images = np.stack([mix.images[p] for p in pairs])
    gallery = [(img, f"row {r} x col {c}") for img, (r, c) in zip(display(images), pairs)]
    figure = h.enlarge(mix.grid, G.img_resolution)
    files = [str(entry.image)] + ([str(entry.latents)] if entry.latents else [])
    return figure, gallery, {"query": query, "files": files, "id": entry.id, "spec": f"history:{entry.id}"}


def build(ctx: UIContext) -> Page:
    t = ctx.t
    G0 = ctx.model(None).G
    with gr.Tab(t("tab.mix"), id="mix"):
        with gr.Row():
            with gr.Column(scale=1):
                rows = gr.Textbox("1,2,3", label=t("mix.rows"))
                cols = gr.Textbox("4,5,6,7", label=t("mix.cols"))
                preset = gr.Radio(PRESETS, value="coarse", label=t("mix.preset"))
                custom = gr.Textbox("0-3", label=t("mix.custom"), visible=False)
                gr.Markdown(t("mix.groups"))
                groups = gr.Markdown(h.group_note(G0))
                psi = gr.Slider(-1.0, 2.0, value=1.0, step=0.05, label=t("common.psi"))
                noise = gr.Radio(NOISE_MODES, value="const", label=t("common.noise"))
                noise_seed = gr.Number(0, label=t("common.noise_seed"), precision=0, minimum=0)
                button = gr.Button(t("mix.button"), variant="primary")
            with gr.Column(scale=2):
                figure = gr.Image(label=t("mix.figure"), format="png", type="numpy", interactive=False)
                gallery = gr.Gallery(label=t("mix.mixes"), columns=6, format="png", height="auto")
                files = gr.File(label=t("common.download"), file_count="multiple", interactive=False)
        record = gr.State()

    @user_errors
    def run(
        rows: str,
        cols: str,
        preset: str = "coarse",
        custom: str = "",
        psi: float = 1.0,
        noise: str = "const",
        noise_seed: float = 0,
        network: str = "",
    ) -> tuple[np.ndarray, list[tuple[np.ndarray, str]], dict[str, Any]]:
        """Style mixing: each row seed with the layers of `preset` (coarse/middle/fine, or "custom" and the range
        `custom`, e.g. "0-3") taken from each column seed; returns the figure and the individual mixes."""
        return mix_figure(ctx, rows, cols, preset, custom, psi, noise, noise_seed, network)

    def show_record(r: dict[str, Any] | None) -> tuple[Any, Any]:
        return (r["query"], r["files"]) if r else (gr.skip(), gr.skip())

    @user_errors
    def on_network(source: str) -> str:
        return h.group_note(ctx.model(source).G)

    preset.change(lambda p: gr.update(visible=p == "custom"), preset, custom, queue=False, api_visibility="private")
    ctx.network.change(on_network, ctx.network, groups, api_visibility="private", **ctx.device_queue)
    button.click(
        run,
        [rows, cols, preset, custom, psi, noise, noise_seed, ctx.network],
        [figure, gallery, record],
        api_name="mix",
        **ctx.device_queue,
    ).then(show_record, record, [ctx.share_query, files], queue=False, api_visibility="private")

    def restore(recipe: dict[str, Any]) -> list[Any]:
        def value(key: str, default: Any) -> Any:
            v = recipe.get(key)
            return default if v is None else str(v) if isinstance(default, str) else v

        layer_text = str(recipe.get("layers") or "coarse")
        is_preset = layer_text in h.GROUPS
        return [
            value("rows", "1,2,3"),
            value("cols", "4,5,6,7"),
            layer_text if is_preset else "custom",
            gr.skip() if is_preset else gr.update(value=layer_text, visible=True),
            value("psi", 1.0),
            value("noise", "const"),
            value("noise_seed", 0),
        ]

    return Page("mix", [rows, cols, preset, custom, psi, noise, noise_seed], restore)
