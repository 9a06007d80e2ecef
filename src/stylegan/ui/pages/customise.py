"""Customise: the kind of image a user asks for, by class (conditional networks) or by the 2019 face website's
template style swap (layers 5-8 taken from a template); the `/customise` API endpoint."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np

from ...editing.latent_ops import swap_styles
from ...errors import StyleGANError
from ...generation import seeds_to_ws
from ...images import make_grid
from ..context import NOISE_MODES, Page, UIContext, display, layer_choices, user_errors
from . import _cmf_helpers as h

METHODS = ["class", "template", "zgen"]

LABELS = {
    "en": {
        "tab.customise": "Customise",
        "customise.method": "How",
        "customise.by_class": "By class",
        "customise.by_template": "By template (style swap)",
        "customise.by_zgen": "By Z-code generator",
        "customise.seeds": "Base seeds (e.g. 0-3)",
        "customise.class": "Class to make",
        "customise.template": "Template (seed:N or history:ID)",
        "customise.template_file": "Or a template latent file (.npz / .npy)",
        "customise.layers": "Layers taken from the template",
        "customise.layers_note": "Layer indices are 0-based (0 drives 4px). The face website swapped layers 5-8; "
        "on the loaded network they drive:",
        "customise.zgen_note": "The Z-code generator given at start (--zgen) turns each seed's code into a z that "
        "the classifier it was trained with puts in its class (`stylegan zgen train`).",
        "customise.button": "Render",
        "customise.to_edit": "Send to Edit",
        "customise.to_fuse": "Send to Fuse",
        "customise.spec": "This result as a latent",
    },
    "zh": {
        "tab.customise": "定制",
        "customise.method": "方式",
        "customise.by_class": "按类别",
        "customise.by_template": "按模板（风格替换）",
        "customise.by_zgen": "按 Z 码生成器",
        "customise.seeds": "基础种子（例如 0-3）",
        "customise.class": "要生成的类别",
        "customise.template": "模板（seed:N 或 history:编号）",
        "customise.template_file": "或模板潜码文件（.npz / .npy）",
        "customise.layers": "取自模板的层",
        "customise.layers_note": "层编号从 0 开始（0 对应 4px）。2019 年的人脸网站替换第 5-8 层；"
        "在当前网络上它们对应：",
        "customise.zgen_note": "启动时给定的 Z 码生成器（--zgen）把每个种子的编码变成分类器判为其目标类别的 z"
        "（用 `stylegan zgen train` 训练）。",
        "customise.button": "渲染",
        "customise.to_edit": "发送到编辑",
        "customise.to_fuse": "发送到融合",
        "customise.spec": "此结果的潜码",
    },
}


def customise_images(
    ctx: UIContext,
    method: str,
    seeds: str,
    class_idx: Any = 0,
    template: str = "seed:0",
    template_file: Any = None,
    layers: Any = "5-8",
    psi: float = 0.7,
    noise: str = "const",
    noise_seed: float = 0,
    network: str = "",
) -> tuple[list[tuple[np.ndarray, str]], dict[str, Any]]:
    """Render base seeds customised by class or by a template's styles; returns the gallery and the record."""
    model = ctx.model(network)
    G = model.G
    method = str(method or "").strip()
    if method == "zgen" and not ctx.zgen:
        raise StyleGANError("this app was started without --zgen: customise by class or by template")
    if method not in ("class", "template", "zgen"):
        raise StyleGANError(f"method must be class, template or zgen, got {method[:40]!r}")
    seed_list = ctx.parse_seeds(seeds, "base seeds")
    psi, noise_seed = float(psi), int(noise_seed or 0)
    settings: dict[str, Any] = {"method": method, "seeds": str(seeds).strip(), "psi": psi, "noise": noise}
    settings["noise_seed"] = noise_seed
    if method == "zgen":  # method 1: z from the Z-code generator's code for each seed
        from ...customise.zgen import zgen_file_z_fn

        z_fn, zgen_class = zgen_file_z_fn(str(ctx.zgen), G)  # refused unless made for this network
        settings.update(zgen=Path(str(ctx.zgen)).name, title=f"zgen {Path(str(ctx.zgen)).name}")
        recipe = ctx.base_recipe("customise", model, **settings)

        def make() -> tuple[np.ndarray, Any]:
            ws = seeds_to_ws(G, seed_list, psi=psi, class_idx=zgen_class, z_fn=z_fn)
            return ctx.render(model, ws, noise, noise_seed), ws

        images, ws = ctx.cache.get_or_make(recipe, make)
    elif method == "class":
        cls = h.parse_class(G, class_idx)
        settings["class"] = cls
        settings["title"] = f"class {cls}"
        recipe = ctx.base_recipe("customise", model, **settings)

        def make() -> tuple[np.ndarray, Any]:
            ws = seeds_to_ws(G, seed_list, psi=psi, class_idx=cls)
            return ctx.render(model, ws, noise, noise_seed), ws

        images, ws = ctx.cache.get_or_make(recipe, make)
    else:
        idx = h.parse_layer_text(layers, G.num_ws)
        uploaded = h.resolve_upload(ctx, model, template_file)
        if uploaded is not None:
            tpl, spec = uploaded, "upload:" + h.upload_names(template_file)[0]
        else:
            spec = str(template or "").strip()
            if not spec:
                raise StyleGANError("give a template: seed:N, history:ID, or upload a latent file")
            tpl = h.resolve_text_spec(ctx, model, spec, psi=psi)
        settings.update(template=spec, layers=h.layers_text(idx), title=f"template {spec}")
        recipe = ctx.base_recipe("customise", model, **settings)

        def make() -> tuple[np.ndarray, Any]:
            base = seeds_to_ws(G, seed_list, psi=psi).cpu()
            ws = swap_styles(base, tpl.to(base.dtype), idx)
            return ctx.render(model, ws, noise, noise_seed), ws

        images, ws = make() if uploaded is not None else ctx.cache.get_or_make(recipe, make)
    cols = int(np.ceil(np.sqrt(len(images))))
    grid = make_grid(images, int(np.ceil(len(images) / cols)), cols)
    entry, query = ctx.keep(grid, recipe, ws)
    gallery = [(img, f"seed {s}") for img, s in zip(display(images), seed_list)]
    files = [str(entry.image)] + ([str(entry.latents)] if entry.latents else [])
    return gallery, {"query": query, "files": files, "id": entry.id, "spec": f"history:{entry.id}"}


def method_choices(ctx: UIContext, c_dim: int) -> list[tuple[Any, str]]:
    t = ctx.t
    choices = [(t("customise.by_class"), "class")] if c_dim > 0 else []
    choices.append((t("customise.by_template"), "template"))
    if ctx.zgen:
        choices.append((t("customise.by_zgen"), "zgen"))
    return choices


def build(ctx: UIContext) -> Page:
    t = ctx.t
    G0 = ctx.model(None).G
    model0 = ctx.model(None)
    default_layers = h.default_swap_layers(G0.num_ws)
    first = "class" if G0.c_dim > 0 else "template"
    with gr.Tab(t("tab.customise"), id="customise"):
        with gr.Row():
            with gr.Column(scale=1):
                method = gr.Radio(method_choices(ctx, G0.c_dim), value=first, label=t("customise.method"))
                gr.Markdown(t("customise.zgen_note"), visible=bool(ctx.zgen))
                seeds = gr.Textbox("0-3", label=t("customise.seeds"))
                choices = h.class_choices(model0)
                with gr.Group(visible=first == "class") as class_group:
                    class_idx = gr.Dropdown(
                        choices,
                        value=choices[0][1] if choices else -1,
                        label=t("customise.class"),
                        allow_custom_value=True,
                    )
                with gr.Group(visible=first == "template") as template_group:
                    template = gr.Textbox("seed:0", label=t("customise.template"))
                    template_file = gr.File(label=t("customise.template_file"), file_types=[".npz", ".npy"])
                    layer_boxes = gr.CheckboxGroup(layer_choices(G0), value=default_layers, label=t("customise.layers"))
                    gr.Markdown(t("customise.layers_note"))
                    layer_note = gr.Markdown(h.resolution_note(G0, range(5, 9)))
                layers = gr.Textbox(h.layers_text(default_layers), visible=False)
                psi = gr.Slider(-1.0, 2.0, value=0.7, step=0.05, label=t("common.psi"))
                noise = gr.Radio(NOISE_MODES, value="const", label=t("common.noise"))
                noise_seed = gr.Number(0, label=t("common.noise_seed"), precision=0, minimum=0)
                button = gr.Button(t("customise.button"), variant="primary")
            with gr.Column(scale=2):
                gallery = gr.Gallery(label=t("common.result"), columns=4, format="png", height="auto")
                files = gr.File(label=t("common.download"), file_count="multiple", interactive=False)
                spec = gr.Textbox(label=t("customise.spec"), interactive=False)
                with gr.Row():
                    to_edit = gr.Button(t("customise.to_edit"), size="sm")
                    to_fuse = gr.Button(t("customise.to_fuse"), size="sm")
        record = gr.State()

    @user_errors
    def run(
        method: str,
        seeds: str,
        class_idx: Any = 0,
        template: str = "seed:0",
        template_file: Any = None,
        layers: str = "5-8",
        psi: float = 0.7,
        noise: str = "const",
        noise_seed: float = 0,
        network: str = "",
    ) -> tuple[list[tuple[np.ndarray, str]], dict[str, Any]]:
        """Images of base `seeds` customised by `method`: "class" (`class_idx`) or "template" (the `layers`, e.g.
        "5-8", taken from `template`: seed:N / history:ID, or an uploaded `template_file`)."""
        return customise_images(
            ctx, method, seeds, class_idx, template, template_file, layers, psi, noise, noise_seed, network
        )

    def show_record(r: dict[str, Any] | None) -> tuple[Any, Any, Any]:
        return (r["query"], r["files"], r["spec"]) if r else (gr.skip(), gr.skip(), gr.skip())

    def show_method(m: str) -> tuple[Any, Any]:
        return gr.update(visible=m == "class"), gr.update(visible=m == "template")

    @user_errors
    def on_network(source: str, current: str, cls: Any, chosen: list[int]) -> list[Any]:
        model = ctx.model(source)
        G = model.G
        m = current if (current != "class" or G.c_dim > 0) else "template"
        picks = h.class_choices(model)
        keep_cls = cls if isinstance(cls, int) and 0 <= cls < G.c_dim else (picks[0][1] if picks else None)
        kept = [int(i) for i in chosen or [] if int(i) < G.num_ws] or h.default_swap_layers(G.num_ws)
        return [
            gr.update(choices=method_choices(ctx, G.c_dim), value=m),
            gr.update(choices=picks, value=keep_cls),
            gr.update(visible=m == "class"),
            gr.update(visible=m == "template"),
            gr.update(choices=layer_choices(G), value=kept),
            h.resolution_note(G, range(5, 9)),
        ]

    method.change(show_method, method, [class_group, template_group], queue=False, api_visibility="private")
    layer_boxes.change(None, layer_boxes, layers, js="(v) => (v || []).join(',')", api_visibility="private")
    ctx.network.change(
        on_network,
        [ctx.network, method, class_idx, layer_boxes],
        [method, class_idx, class_group, template_group, layer_boxes, layer_note],
        api_visibility="private",
        **ctx.device_queue,
    )
    button.click(
        run,
        [method, seeds, class_idx, template, template_file, layers, psi, noise, noise_seed, ctx.network],
        [gallery, record],
        api_name="customise",
        **ctx.device_queue,
    ).then(show_record, record, [ctx.share_query, files, spec], queue=False, api_visibility="private")
    ctx.handovers.append((to_edit, spec, "edit"))
    ctx.handovers.append((to_fuse, spec, "fuse"))

    def restore(recipe: dict[str, Any]) -> list[Any]:
        def value(key: str, default: Any) -> Any:
            v = recipe.get(key)
            return default if v is None else v

        m = recipe.get("method") or ("template" if recipe.get("layers") or recipe.get("template") else "class")
        tpl = str(value("template", "seed:0"))
        chosen = recipe.get("layers")
        try:
            picked = [int(i) for i in str(chosen).split(",")] if chosen else None
        except ValueError:
            picked = None
        return [
            m,
            value("seeds", "0-3"),
            value("class", gr.skip()),
            tpl if not tpl.startswith("upload:") else gr.skip(),
            picked if picked is not None else gr.skip(),
            chosen if chosen else gr.skip(),
            value("psi", 0.7),
            value("noise", "const"),
            value("noise_seed", 0),
        ]

    return Page(
        "customise",
        [method, seeds, class_idx, template, layer_boxes, layers, psi, noise, noise_seed],
        restore,
    )
