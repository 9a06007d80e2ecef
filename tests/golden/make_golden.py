"""Golden output slices of tiny networks. Run `python tests/golden/make_golden.py` to regenerate (then review)."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from stylegan.testing import tiny_discriminator, tiny_generator

CASES = {
    "G-skip": dict(architecture="skip"),
    "G-orig-cond": dict(architecture="orig", c_dim=3),
    "G-resnet-gray": dict(architecture="resnet", img_channels=1),
    "D-resnet": dict(architecture="resnet"),
    "D-skip-cond": dict(architecture="skip", c_dim=3),
    "D-orig": dict(architecture="orig"),
}


def compute_case(name: str) -> list:
    """The values checked for one case: a 3x3 slice of the image (G) or the 4 logits (D)."""
    kw = CASES[name]
    g = torch.Generator().manual_seed(1234)
    c_dim = kw.get("c_dim", 0)
    c = torch.eye(c_dim)[[0, 1, 2, 0]] if c_dim else None
    with torch.no_grad():
        if name.startswith("G"):
            G = tiny_generator(seed=7, **kw)
            z = torch.randn(4, G.z_dim, generator=g)
            img = G(z, c, truncation_psi=0.8, noise_mode="const")
            return img[1, 0, 5:8, 5:8].tolist()
        D = tiny_discriminator(seed=7, **kw)
        img = torch.randn(4, 3, 16, 16, generator=g)
        return D(img, c)[:, 0].tolist()


def main() -> None:
    out = [{"name": name, "slice": compute_case(name)} for name in CASES]
    path = Path(__file__).with_name("networks.json")
    path.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
