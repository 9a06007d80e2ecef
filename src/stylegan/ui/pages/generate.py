"""Generate: images from seeds, with truncation, noise and class; the `/generate` API endpoint."""

from __future__ import annotations

import random
from typing import Any

import gradio as gr
import numpy as np

from ...errors import StyleGANError
from ...generation import seeds_to_ws
from ...images import make_grid
from ..context import NOISE_MODES, Page, UIContext, class_or_none, cutoff_or_none, display, user_errors

LABELS = {
    "en": {
        "tab.generate": "Generate",
        "generate.seeds": "Seeds (e.g. 0-7 or 3,14,15)",
        "generate.random": "Random seeds",
        "generate.button": "Generate",
        "generate.cols": "Grid columns (0: automatic)",
        "generate.class_info": "-1: the network's default (a conditional network draws class seed % classes)",
    },
    "zh": {
        "tab.generate": "生成",
        "generate.seeds": "种子（例如 0-7 或 3,14,15）",
        "generate.random": "随机种子",
        "generate.button": "生成图像",
        "generate.cols": "网格列数（0：自动）",
        "generate.class_info": "-1：网络默认（条件网络按 种子 % 类别数 选类别）",
    },
}


def generate_images(
    ctx: UIContext,
    seeds: str,
    psi: float = 0.7,
    cutoff: float = -1,
    noise: str = "const",
    noise_seed: float = 0,
    class_idx: float = -1,
    cols: float = 0,
    network: str = "",
) -> tuple[list[tuple[np.ndarray, str]], dict[str, Any]]:
    """Render one image per seed; returns the gallery and the kept result's record (recipe, files, link). The
    grid kept in the history (and downloaded) has `cols` columns (0: a near-square grid)."""
    model = ctx.model(network)
    seed_list = ctx.parse_seeds(seeds)
    cut, cls = cutoff_or_none(cutoff), class_or_none(model.G, class_idx)
    recipe = ctx.base_recipe(
        "generate",
        model,
        seeds=str(seeds).strip(),
        psi=float(psi),
        cutoff=cut,
        noise=noise,
        noise_seed=int(noise_seed),
        cols=int(cols or 0),
        **{"class": cls},
    )

    def make() -> tuple[np.ndarray, Any]:
        ws = seeds_to_ws(model.G, seed_list, psi=float(psi), truncation_cutoff=cut, class_idx=cls)
        return ctx.render(model, ws, noise, int(noise_seed)), ws

    images, ws = ctx.cache.get_or_make(recipe, make)
    n_cols = int(cols or 0)
    if n_cols < 0:
        raise StyleGANError(f"grid columns must be >= 0 (0: automatic), got {n_cols}")
    n_cols = min(n_cols, len(images)) or int(np.ceil(np.sqrt(len(images))))
    grid = make_grid(images, int(np.ceil(len(images) / n_cols)), n_cols)
    entry, query = ctx.keep(grid, recipe, ws)
    gallery = [(img, f"seed {s}") for img, s in zip(display(images), seed_list)]
    files = [str(entry.image)] + ([str(entry.latents)] if entry.latents else [])
    return gallery, {"query": query, "files": files, "id": entry.id}


def build(ctx: UIContext) -> Page:
    t = ctx.t
    with gr.Tab(t("tab.generate"), id="generate"):
        with gr.Row():
            with gr.Column(scale=1):
                seeds = gr.Textbox("0-7", label=t("generate.seeds"))
                with gr.Row():
                    random_btn = gr.Button(t("generate.random"), size="sm")
                psi = gr.Slider(-1.0, 2.0, value=0.7, step=0.05, label=t("common.psi"))
                cutoff = gr.Number(-1, label=t("common.cutoff"), precision=0, minimum=-1)
                noise = gr.Radio(NOISE_MODES, value="const", label=t("common.noise"))
                noise_seed = gr.Number(0, label=t("common.noise_seed"), precision=0, minimum=0)
                class_idx = gr.Number(-1, label=t("common.class"), info=t("generate.class_info"), precision=0)
                cols = gr.Number(0, label=t("generate.cols"), precision=0, minimum=0)
                button = gr.Button(t("generate.button"), variant="primary")
            with gr.Column(scale=2):
                gallery = gr.Gallery(label=t("common.result"), columns=4, format="png", height="auto")
                files = gr.File(label=t("common.download"), file_count="multiple", interactive=False)
        record = gr.State()

    @user_errors
    def run(
        seeds: str,
        psi: float = 0.7,
        cutoff: float = -1,
        noise: str = "const",
        noise_seed: float = 0,
        class_idx: float = -1,
        cols: float = 0,
        network: str = "",
    ) -> tuple[list[tuple[np.ndarray, str]], dict[str, Any]]:
        """Images for `seeds` (text such as "0-3,7") at truncation `psi`; returns the gallery."""
        return generate_images(ctx, seeds, psi, cutoff, noise, noise_seed, class_idx, cols, network)

    def show_record(r: dict[str, Any] | None) -> tuple[Any, Any]:
        return (r["query"], r["files"]) if r else (gr.skip(), gr.skip())

    random_btn.click(
        lambda: ",".join(str(random.randrange(2**31)) for _ in range(8)),
        None,
        seeds,
        queue=False,
        api_visibility="private",
    )
    button.click(
        run,
        [seeds, psi, cutoff, noise, noise_seed, class_idx, cols, ctx.network],
        [gallery, record],
        api_name="generate",
        **ctx.device_queue,
    ).then(
        lambda r: (r["query"], r["files"]) if r else (gr.skip(), gr.skip()),
        record,
        [ctx.share_query, files],
        queue=False,
        api_visibility="private",
    )

    def restore(recipe: dict[str, Any]) -> list[Any]:
        def value(key: str, default: Any) -> Any:
            v = recipe.get(key)
            return default if v is None else v

        return [
            value("seeds", "0-7"),
            value("psi", 0.7),
            value("cutoff", -1),
            value("noise", "const"),
            value("noise_seed", 0),
            value("class", -1),
            int(value("cols", 0)) if str(value("cols", 0)).isdigit() else 0,
        ]

    return Page("generate", [seeds, psi, cutoff, noise, noise_seed, class_idx, cols], restore)
