"""The gradio app: a model picker above one tab per page, a share link, and the wiring between pages."""

from __future__ import annotations

import importlib
from typing import Any

import gradio as gr

from ..errors import StyleGANError
from .context import Page, UIContext, file_path, user_errors
from .labels import translations

#: The pages, in tab order (modules of `stylegan.ui.pages`).
PAGES = ["generate", "customise", "mix", "edit", "photo", "fuse", "video", "history"]

#: Writes the share query into the address bar and returns the full link.
SHARE_JS = """(q) => {
  const url = window.location.pathname + (q ? "?" + q : "");
  window.history.replaceState(null, "", url);
  return q ? window.location.origin + url : "";
}"""


def page_modules(names: list[str] | None = None) -> dict[str, Any]:
    """{page name: module} of the pages asked for (all by default)."""
    modules = {}
    for name in names or PAGES:
        try:
            modules[name] = importlib.import_module(f"stylegan.ui.pages.{name}")
        except ModuleNotFoundError as e:  # a page being written must not break the others
            if e.name != f"stylegan.ui.pages.{name}" or names:
                raise
    return modules


def build_app(ctx: UIContext, pages: list[str] | None = None) -> Any:
    """Build the gradio Blocks of the app (not launched); `pages` limits the tabs (all by default)."""
    modules = page_modules(pages)
    ctx.i18n = gr.I18n(**translations(m.LABELS for m in modules.values()))
    t = ctx.t
    built: dict[str, Page] = {}
    # gradio's own copies of uploads and outputs older than a day go, checked hourly (the disk stays bounded)
    with gr.Blocks(title="StyleGAN", analytics_enabled=False, delete_cache=(3600, 86400)) as demo:
        gr.Markdown(t("app.intro"))
        with gr.Row():
            ctx.network = gr.Dropdown(
                ctx.models.choices(),
                value=ctx.models.default,
                label=t("model.network"),
                allow_custom_value=True,
                scale=3,
            )
            upload = gr.File(label=t("model.upload"), file_types=[".pkl", ".pt", ".pth", ".safetensors"], scale=2)
            share_link = gr.Textbox(label=t("share.link"), interactive=False, buttons=["copy"], scale=3)
        with gr.Accordion(t("model.card"), open=False):
            card = gr.Markdown()
        ctx.share_query = gr.Textbox(visible=False)
        with gr.Tabs() as tabs:
            ctx.tabs = tabs
            for name, module in modules.items():
                built[name] = module.build(ctx)
        ctx.share_query.change(None, ctx.share_query, share_link, js=SHARE_JS, queue=False)

        @user_errors
        def show_card(source: str) -> str:
            return ctx.model(source).card

        ctx.network.change(show_card, ctx.network, card, api_visibility="private", **ctx.device_queue)

        def use_upload(file: Any) -> tuple[Any, None]:
            """Load an uploaded network (safe loader) and pick it; the upload box is emptied either way."""
            path = file_path(file)
            if not path:
                return gr.skip(), None
            try:
                ctx.models.get(path)
            except (StyleGANError, OSError, ValueError) as e:
                gr.Warning(str(e), title="Not loaded", duration=None)
                return gr.skip(), None
            return gr.update(choices=ctx.models.choices(), value=path), None

        upload.upload(use_upload, upload, [ctx.network, upload], api_visibility="private", **ctx.device_queue)
        _wire_restore(ctx, demo, built)
        _wire_handover(ctx, built)
        demo.load(show_card, ctx.network, card, api_visibility="private", **ctx.device_queue)
    return demo


def _wire_restore(ctx: UIContext, demo: Any, built: dict[str, Page]) -> None:
    """A link's query (on load) or a history entry (Reopen) switches to its page and fills in its settings."""
    from .session import query_recipe

    targets = [p for p in built.values() if p.restore is not None]
    outputs = [ctx.tabs, ctx.network] + [c for p in targets for c in p.restore_outputs]

    def restore(recipe: dict[str, Any]) -> list[Any]:
        page = built.get(str(recipe.get("kind", "")))
        if not recipe or page is None or page.restore is None:
            return [gr.skip() for _ in outputs]
        values: list[Any] = [gr.Tabs(selected=page.id)]
        values.append(recipe["network"] if recipe.get("network") else gr.skip())
        for p in targets:
            values += page.restore(recipe) if p is page else [gr.skip() for _ in p.restore_outputs]
        return values

    def from_link(request: gr.Request) -> list[Any]:
        recipe = query_recipe(dict(request.query_params)) if request is not None else {}
        if recipe.get("id"):  # a link names its history entry: its full recipe, the link's own keys winning
            try:
                kept = ctx.history.get(recipe["id"]).recipe
            except StyleGANError:  # made by an earlier run of the app: the link's keys are all there is
                kept = {}
            if kept.get("kind") == recipe.get("kind", kept.get("kind")):
                recipe = {**kept, **recipe}
        return restore(recipe)

    @user_errors
    def reopen(entry_id: str) -> list[Any]:
        return restore(ctx.history.get(str(entry_id)).recipe) if entry_id else [gr.skip() for _ in outputs]

    demo.load(from_link, None, outputs, api_visibility="private", queue=False)
    for button, entry_id in ctx.reopeners:
        button.click(reopen, entry_id, outputs, queue=False, api_visibility="private")


def _wire_handover(ctx: UIContext, built: dict[str, Page]) -> None:
    """Buttons that send a result's latent to another page (registered by pages in `ctx.handovers`)."""
    for button, source, target_id in ctx.handovers:
        target = built.get(target_id)
        if target is None or target.latent_input is None:
            continue
        accept = target.accept or (lambda current, spec: spec)

        def send(current: Any, spec: str, accept: Any = accept, target_id: str = target_id) -> Any:
            if not spec:
                return gr.skip(), gr.skip()
            return accept(current, spec), gr.Tabs(selected=target_id)

        button.click(
            send, [target.latent_input, source], [target.latent_input, ctx.tabs], queue=False, api_visibility="private"
        )
