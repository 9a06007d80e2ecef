"""Package a snapshot of the emoji training run as the bundled `emoji` network, with its model card.

Maintainers run this after training (see README, "The bundled network"):

    python scripts/bundle_emoji.py --snapshot runs/00000-.../network-snapshot-000150.safetensors \
        --fid runs/fid/metric-fid5k_full.jsonl

It writes `src/stylegan/assets/emoji32.safetensors` (the inference generator only, float16 storage) with the model
card in its metadata (`stylegan info emoji` prints it), and the same card as `src/stylegan/assets/emoji32.md`.
The training stages come from the run folders (config.json, log.txt, stats.jsonl): a run started with
`--resume-from` a snapshot of another run follows that run back. The FID comes from a `stylegan metrics` JSON-lines
file.
"""

from __future__ import annotations

import argparse
import json
import sys
import zipfile
from pathlib import Path
from typing import Any

import torch

import stylegan
from stylegan.io import inspect
from stylegan.presets import PRESETS

ASSETS = Path(__file__).resolve().parents[1] / "src" / "stylegan" / "assets"

DATA = (
    "Noto Color Emoji (Google), from the `emoji-datasource-google` npm package (or Debian's fonts-noto-color-emoji "
    "font), flattened onto white and resized to 32x32, labelled with their Unicode emoji group (9 classes)."
)
DATA_LICENSE = "Apache-2.0 (Noto Emoji images; flags are public domain)"
LICENSE = "Apache-2.0"
HARDWARE = "2 shared CPU cores (x86-64), no GPU; other jobs ran beside it"


def precision_switches(log_text: str) -> list[tuple[float, str]]:
    """(kimg, precision) of every start or resume of a run whose precision differs from the one before, from its
    log.txt ("resuming ... at kimg K" then "training ... precision P [(why)]"; older logs name no precision: fp32).

    >>> precision_switches("training 9 kimg on x, device cpu\\nresuming r at kimg 148.000 (step 1)\\n"
    ...                    "training 9 kimg on x, device cpu, precision bf16 (auto: this CPU runs bfloat16 natively)")
    [(0.0, 'fp32'), (148.0, 'bf16')]
    """
    switches: list[tuple[float, str]] = []
    kimg = 0.0
    for line in log_text.splitlines():
        if line.startswith("resuming ") and " at kimg " in line:
            kimg = float(line.split(" at kimg ")[1].split()[0])
        elif line.startswith("training ") and " kimg on " in line:
            precision = line.split(", precision ", 1)[1].split()[0] if ", precision " in line else "fp32"
            if not switches or switches[-1][1] != precision:
                switches.append((kimg, precision))
    return switches


def training_command(config: dict[str, Any]) -> str:
    """The `stylegan train` command line that started a run, from its config.json."""
    c = config["config"]
    parts = [
        "stylegan train",
        f"--data {Path(c['data']['path']).name}",
        "--outdir runs",
        f"--cfg {c['preset']}",
        f"--cmax {c['G']['channel_max']}",
        f"--batch {c['batch']}",
        f"--gamma {c['loss']['r1_gamma']:g}",
    ]
    if c["data"]["cond"]:
        parts.append("--cond")
    if c["data"]["mirror"]:
        parts.append("--mirror")
    preset = PRESETS[c["preset"]]
    if c["loss"]["pl_weight"] != preset.pl_weight:
        parts.append(f"--pl-weight {c['loss']['pl_weight']:g}")
    if c["loss"]["style_mixing_prob"] != preset.style_mixing_prob:
        parts.append(f"--mixing {c['loss']['style_mixing_prob']:g}")
    if c["ema_kimg"] != (preset.ema_kimg or c["batch"] * 10 / 32):
        parts.append(f"--ema {c['ema_kimg']:g}")
    parts.append(f"--aug {c['augment']['kind']}")
    if c["augment"]["kind"] != "none" and c["augment"]["p"]:
        parts.append(f"--p {c['augment']['p']:g}")
    parts.append(f"--kimg {c['kimg']:g}")
    parts.append(f"--precision {c.get('precision', 'fp32')}")  # the run's (resolved) precision; older runs: fp32
    if c.get("resume_from"):
        parts.append(f"--resume-from {Path(c['resume_from']).name}")
    return " ".join(parts)


def resume_note(log_text: str) -> str:
    """How a run was continued, e.g. "stopped and resumed 9 times with --resume latest; --precision bf16 from 148
    kimg", or "" when it ran in one go."""
    resumes = sum(line.startswith("resuming ") for line in log_text.splitlines())
    if not resumes:
        return ""
    later = [f"--precision {p} from {k:g} kimg" for k, p in precision_switches(log_text)[1:]]
    times = "once" if resumes == 1 else f"{resumes} times"
    return f"stopped and resumed {times} with --resume latest" + "".join("; " + x for x in later)


def wall_time_hours(stats_file: Path, kimg: float) -> float:
    """Training time (hours, summed over resumes) at the tick closest to `kimg`, from a run's stats.jsonl."""
    best = None
    for line in stats_file.read_text().splitlines():
        row = json.loads(line)
        if best is None or abs(row["Progress/kimg"] - kimg) < abs(best["Progress/kimg"] - kimg):
            best = row
    if best is None:
        raise SystemExit(f"{stats_file}: no ticks recorded")
    return best["Timing/total_sec"] / 3600


def dataset_note(config: dict[str, Any], log_text: str) -> str:
    """The run's dataset: file name, image count (from the log) and, for an emoji dataset still on disk, the
    command that builds it."""
    data = Path(config["config"]["data"]["path"])
    details = [
        f"{int(line.split(' (')[1].split()[0]):,} images"
        for line in log_text.splitlines()
        if line.startswith("training ") and " images)" in line
    ][-1:]
    if data.suffix == ".zip" and data.is_file():
        with zipfile.ZipFile(data) as z:
            meta = json.loads(z.read("dataset.json")) if "dataset.json" in z.namelist() else {}
        if "skin_tones" in meta or "emoji-datasource" in str(meta.get("source")):  # older builds kept the tones
            flag = "" if meta.get("skin_tones", True) else " --no-skin-tones"
            res = config["config"]["G"]["img_resolution"]
            details.append(f"`stylegan dataset emoji --dest {data.name} --resolution {res}{flag}`")
    return data.name + (f" ({', '.join(details)})" if details else "")


def training_stages(snapshot: Path) -> list[dict[str, Any]]:
    """One record per training run that led to `snapshot`, oldest first: a run started with --resume-from a
    snapshot of another run (fine-tuning, e.g. on another dataset) follows that run's stages."""
    run = snapshot.parent
    config = json.loads((run / "config.json").read_text())
    log_text = (run / "log.txt").read_text() if (run / "log.txt").is_file() else ""
    kimg = float(inspect(snapshot).metadata["training"]["kimg"])
    earlier: list[dict[str, Any]] = []
    source = config["config"].get("resume_from")
    if source and Path(source).is_file() and (Path(source).parent / "config.json").is_file():
        earlier = training_stages(Path(source))
    return earlier + [
        {
            "command": training_command(config),
            "data": dataset_note(config, log_text),
            "notes": resume_note(log_text),
            "kimg": round(kimg, 1),
            "wall_time_hours": round(wall_time_hours(run / "stats.jsonl", kimg), 1),
        }
    ]


def read_fid(jsonl: Path) -> dict[str, Any]:
    """The last FID record of a `stylegan metrics` JSON-lines file."""
    records = [json.loads(line) for line in jsonl.read_text().splitlines() if line.strip()]
    fids = [r for r in records if r["metric"].startswith("fid")]
    if not fids:
        raise SystemExit(f"{jsonl}: no FID record")
    r = fids[-1]
    return {
        "metric": r["metric"],
        "value": round(float(next(iter(r["results"].values()))), 2),
        "detector": (r.get("detector") or {}).get("name"),
        "num_gen": r["num_gen"],
        "num_real": r["num_real"],
        "data": Path((r.get("dataset") or {}).get("path") or "?").name,
    }


def model_card(snapshot: Path, fid: dict[str, Any], status: str = "") -> dict[str, Any]:
    """Everything a user should know about the bundled network, as a JSON-able dict."""
    meta = inspect(snapshot).metadata
    stages = training_stages(snapshot)
    return {
        "name": "emoji",
        "summary": "A small conditional StyleGAN2 generator of 32x32 emoji, trained on a CPU by this project.",
        "data": DATA,
        "data_license": DATA_LICENSE,
        "license": LICENSE,
        "classes": meta.get("class_names", []),
        "training": stages,
        "kimg": round(sum(s["kimg"] for s in stages), 1),
        "wall_time_hours": round(sum(s["wall_time_hours"] for s in stages), 1),
        "hardware": HARDWARE,
        "fid": fid,
        "storage": "float16 weights (load as float32)",
        "status": status,
    }


def card_markdown(card: dict[str, Any]) -> str:
    """The model card as a short Markdown page."""
    fid = card["fid"]
    classes = ", ".join(f"{i} {name}" for i, name in enumerate(card["classes"]))
    stages = [
        f"  {i}. `{st['command']}` on {st['data']}: {st['kimg']} kimg, {st['wall_time_hours']} hours"
        + (f" ({st['notes']})" if st["notes"] else "")
        for i, st in enumerate(card["training"], 1)
    ]
    return "\n".join(
        [
            "# Model card: `emoji` (bundled with stylegan)",
            "",
            card["summary"],
            "",
            f"- **Data:** {card['data']}",
            f"- **Data licence:** {card['data_license']}",
            f"- **Network licence:** {card['license']}",
            f"- **Classes (`--class`):** {classes}",
            "- **Training:**" + (" in stages, each fine-tuning the last one's snapshot:" if len(stages) > 1 else ""),
            *stages,
            f"- **Length:** {card['kimg']} kimg, {card['wall_time_hours']} hours on {card['hardware']}",
            f"- **FID:** {fid['value']} ({fid['metric']} against {fid['data']}: {fid['num_gen']} generated vs "
            f"{fid['num_real']} real images, detector `{fid['detector']}`; not comparable with FIDs computed with "
            "NVIDIA's Inception file)",
            f"- **Storage:** {card['storage']}",
            *([f"- **Status:** {card['status']}"] if card.get("status") else []),
            "",
            "Without `--class`, seed s draws class s % 9, so `--seeds 0-63` shows every class.",
            "",
        ]
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--snapshot", type=Path, required=True, help="network-snapshot-*.safetensors of the run")
    parser.add_argument("--fid", type=Path, required=True, help="metric JSON-lines file holding its FID")
    parser.add_argument("--status", default="", help="what the images look like at this point, in one sentence")
    parser.add_argument("--out", type=Path, default=ASSETS / "emoji32.safetensors")
    args = parser.parse_args(argv)

    card = model_card(args.snapshot, read_fid(args.fid), args.status)
    G = stylegan.load(args.snapshot)
    stylegan.save(
        args.out,
        G_ema=G,
        dtype=torch.float16,
        metadata={
            "license": card["license"],
            "source": "stylegan bundled network",
            "model_card": card,
            "class_names": card["classes"],
        },
    )
    args.out.with_suffix(".md").write_text(card_markdown(card))
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.1f} MB) and {args.out.with_suffix('.md')}")


if __name__ == "__main__":
    sys.exit(main())
