"""The emoji dataset builder, on a small package laid out like npm's emoji-datasource-google."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from stylegan.data.emoji import GROUPS, build_emoji_dataset, flatten, is_skin_tone_variant
from stylegan.errors import StyleGANError


def _fake_package(root: Path) -> Path:
    pkg = root / "emoji-datasource-google"
    img_dir = pkg / "img" / "google" / "64"
    img_dir.mkdir(parents=True)
    entries = []
    colours = {"Smileys & Emotion": (250, 200, 0), "Animals & Nature": (120, 80, 20), "Component": (0, 0, 255)}
    for k, (group, colour) in enumerate(colours.items()):
        for j in range(2):
            name = f"1f6{k}{j}.png"
            im = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
            im.paste(Image.new("RGBA", (32, 32), colour + (255,)), (16, 16))
            im.save(img_dir / name)
            entry = {"image": name, "unified": name[:-4].upper(), "category": group}
            if j == 1:  # a skin-tone variant listed under its base emoji
                var = f"1f6{k}{j}-1f3fb.png"
                im.save(img_dir / var)
                entry["skin_variations"] = {"1F3FB": {"image": var, "unified": var[:-4].upper()}}
            entries.append(entry)
    (pkg / "emoji.json").write_text(json.dumps(entries))
    return pkg


def test_builds_labelled_nvidia_layout(tmp_path: Path) -> None:
    pkg = _fake_package(tmp_path)
    report = build_emoji_dataset(tmp_path / "emoji.zip", resolution=16, source=pkg, log=lambda s: None)
    assert report.num_images == 9
    with zipfile.ZipFile(tmp_path / "emoji.zip") as z:
        meta = json.loads(z.read("dataset.json"))
        names = sorted(n for n in z.namelist() if n.endswith(".png"))
        assert all(z.getinfo(n).compress_type == zipfile.ZIP_STORED for n in names)
        img = np.array(Image.open(z.open(names[0])))
    assert meta["license"] == "Apache-2.0" and "Noto" in meta["license_note"]
    # 'Component' is folded into 'Symbols'; class names are the Unicode group names.
    assert meta["class_names"] == ["Animals & Nature", "Smileys & Emotion", "Symbols"]
    counts = np.bincount([lab for _, lab in meta["labels"]])
    assert counts.tolist() == [3, 3, 3]
    assert img.shape == (16, 16, 3)
    assert (img[0, 0] == 255).all()  # transparent corners flattened onto white
    assert set(GROUPS) >= set(meta["class_names"])


def test_flatten_composites_alpha() -> None:
    import io

    im = Image.new("RGBA", (2, 1), (255, 0, 0, 0))
    im.putpixel((1, 0), (255, 0, 0, 255))
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    out = np.array(flatten(buf.getvalue(), (0, 0, 0)))
    assert out[0, 0].tolist() == [0, 0, 0] and out[0, 1].tolist() == [255, 0, 0]


def test_bad_source_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StyleGANError, match="expected the emoji-datasource-google folder"):
        build_emoji_dataset(tmp_path / "x.zip", source=tmp_path)


def test_cli_emoji(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from stylegan.cli.main import cli

    pkg = _fake_package(tmp_path)
    res = CliRunner().invoke(
        cli, ["dataset", "emoji", "--source", str(pkg), "--dest", str(tmp_path / "e.zip"), "--resolution", "8"]
    )
    assert res.exit_code == 0, res.output
    assert "9 images" in res.output and "Smileys & Emotion" in res.output
    res = CliRunner().invoke(
        cli,
        [
            "dataset",
            "emoji",
            "--source",
            str(pkg),
            "--dest",
            str(tmp_path / "b.zip"),
            "--resolution",
            "8",
            "--no-skin-tones",
        ],
    )
    assert res.exit_code == 0 and "6 images" in res.output, res.output


def test_no_skin_tones_leaves_out_every_variant(tmp_path: Path) -> None:
    pkg = _fake_package(tmp_path)
    (pkg / "img" / "google" / "64" / "1f3fb.png").write_bytes(
        (pkg / "img" / "google" / "64" / "1f600.png").read_bytes()
    )  # a tone swatch (Component), listed in no emoji.json entry
    report = build_emoji_dataset(tmp_path / "base.zip", resolution=8, source=pkg, skin_tones=False, log=lambda s: None)
    with zipfile.ZipFile(tmp_path / "base.zip") as z:
        meta = json.loads(z.read("dataset.json"))
    assert report.num_images == 6  # 9 images minus the 3 '-1f3fb' variants; the unlabelled swatch is dropped too
    assert np.bincount([lab for _, lab in meta["labels"]]).tolist() == [2, 2, 2]
    assert meta["skin_tones"] is False
    assert is_skin_tone_variant("1f44b-1f3fd.png") and is_skin_tone_variant("u1F44B_1F3FF")
    assert not is_skin_tone_variant("1f44b.png") and not is_skin_tone_variant("1f3fa.png")
