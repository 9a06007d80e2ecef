"""The app's words in English and Chinese (the 2019 face website this app follows was Chinese).

Each page module adds its own keys in a `LABELS = {"en": {...}, "zh": {...}}` dict; `translations` merges them
with the shared ones below. The browser's language picks the set (gradio's settings let a user switch).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

SHARED: dict[str, dict[str, str]] = {
    "en": {
        "app.title": "StyleGAN studio",
        "app.intro": "Generate, customise, mix, edit, bring your own photo, fuse faces and make videos: all on this "
        "machine, nothing leaves it.",
        "model.network": "Network",
        "model.upload": "Load a network file",
        "model.card": "Model card",
        "model.loaded": "Loaded",
        "share.link": "Share link",
        "common.psi": "Truncation psi",
        "common.cutoff": "Truncation cutoff (-1: all layers)",
        "common.noise": "Noise",
        "common.noise_seed": "Noise seed",
        "common.class": "Class",
        "common.result": "Result",
        "common.status": "Status",
        "common.download": "Download",
        "common.latent": "Latent (seed:N, history:ID, or a file)",
        "common.latent_file": "Latent file (.npz / .npy)",
        "common.stop": "Stop",
        "common.layers": "Layers",
        "common.seed": "Seed",
    },
    "zh": {
        "app.title": "StyleGAN 工作室",
        "app.intro": "生成、定制、混合、编辑、上传自己的照片、融合人脸、制作视频："
        "全部在本机完成，数据不会离开这台机器。",
        "model.network": "网络",
        "model.upload": "加载网络文件",
        "model.card": "模型卡",
        "model.loaded": "已加载",
        "share.link": "分享链接",
        "common.psi": "截断 psi",
        "common.cutoff": "截断层数（-1：全部层）",
        "common.noise": "噪声",
        "common.noise_seed": "噪声种子",
        "common.class": "类别",
        "common.result": "结果",
        "common.status": "状态",
        "common.download": "下载",
        "common.latent": "潜码（seed:N、history:编号 或文件）",
        "common.latent_file": "潜码文件（.npz / .npy）",
        "common.stop": "停止",
        "common.layers": "层",
        "common.seed": "种子",
    },
}


def translations(page_labels: Iterable[Mapping[str, Mapping[str, str]]]) -> dict[str, dict[str, str]]:
    """The shared labels merged with every page's; a key missing in Chinese falls back to English."""
    merged = {lang: dict(words) for lang, words in SHARED.items()}
    for labels in page_labels:
        for lang, words in labels.items():
            merged.setdefault(lang, {}).update(words)
    for key, text in merged["en"].items():
        merged["zh"].setdefault(key, text)
    return merged


def missing_chinese(page_labels: Iterable[Mapping[str, Mapping[str, str]]]) -> list[str]:
    """Keys that have English words but no Chinese ones (the tests keep this empty)."""
    merged = {lang: dict(words) for lang, words in SHARED.items()}
    for labels in page_labels:
        for lang, words in labels.items():
            merged.setdefault(lang, {}).update(words)
    return sorted(set(merged["en"]) - set(merged.get("zh", {})))
