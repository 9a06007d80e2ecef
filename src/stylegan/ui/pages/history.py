"""History: every result with its recipe; reopen one in the page that made it, export all as a zip."""

from __future__ import annotations

import json
import time

import gradio as gr

from ..context import Page, UIContext, user_errors

LABELS = {
    "en": {
        "tab.history": "History",
        "history.items": "Results, newest first",
        "history.refresh": "Refresh",
        "history.entry": "Entry",
        "history.recipe": "Recipe",
        "history.reopen": "Reopen",
        "history.export": "Export all as zip",
        "history.files": "Files of this entry",
    },
    "zh": {
        "tab.history": "历史",
        "history.items": "结果（最新在前）",
        "history.refresh": "刷新",
        "history.entry": "条目",
        "history.recipe": "配方",
        "history.reopen": "重新打开",
        "history.export": "全部导出为 zip",
        "history.files": "该条目的文件",
    },
}


def build(ctx: UIContext) -> Page:
    t = ctx.t
    with gr.Tab(t("tab.history"), id="history") as tab:
        with gr.Row():
            refresh = gr.Button(t("history.refresh"), size="sm")
            export = gr.Button(t("history.export"), size="sm")
        gallery = gr.Gallery(label=t("history.items"), columns=6, format="png", height="auto", allow_preview=False)
        with gr.Row():
            with gr.Column():
                entry_id = gr.Textbox(label=t("history.entry"), interactive=False)
                reopen = gr.Button(t("history.reopen"), variant="primary")
                files = gr.File(label=t("history.files"), file_count="multiple", interactive=False)
            recipe = gr.Code(label=t("history.recipe"), language="json")
        archive = gr.File(label=t("common.download"), interactive=False)

    def listing() -> list[tuple[str, str]]:
        return [(str(e.image), e.caption()) for e in ctx.history.entries()]

    def select(evt: gr.SelectData) -> tuple[str, str, list[str]]:
        entries = ctx.history.entries()
        if evt.index is None or not 0 <= int(evt.index) < len(entries):
            return "", "", []
        e = entries[int(evt.index)]
        paths = [str(e.image)] + ([str(e.latents)] if e.latents else [])
        return e.id, json.dumps(e.recipe, indent=1, sort_keys=True), paths

    @user_errors
    def export_all() -> str:
        if not len(ctx.history):
            raise gr.Error("nothing to export yet: make a result first")
        path = ctx.workdir / "exports" / f"history-{time.strftime('%Y%m%d-%H%M%S')}.zip"
        path.parent.mkdir(parents=True, exist_ok=True)
        return str(ctx.history.export_zip(path))

    tab.select(listing, None, gallery, queue=False, api_visibility="private")
    refresh.click(listing, None, gallery, queue=False, api_visibility="private")
    gallery.select(select, None, [entry_id, recipe, files], queue=False, api_visibility="private")
    export.click(export_all, None, archive, api_name="history_export")
    ctx.reopeners.append((reopen, entry_id))
    return Page("history")
