"""A real image dataset that is available offline: Google's Noto Color Emoji (Apache-2.0).

The images come from the npm package `emoji-datasource-google` (3786 PNGs at 64x64, skin-tone variants
included, with `emoji.json` giving each emoji's Unicode group), or from Debian's `fonts-noto-color-emoji`
font file, whose colour bitmaps are read straight from its CBDT table (then labelled through the emoji.json of
the npm package when one is found, unlabelled otherwise). Each image is flattened onto a background and
labelled with its Unicode emoji group (Smileys & Emotion, Animals & Nature, ...), so conditional networks can
be trained on it.

Five skin-tone variants of every person emoji make People & Body 60% of the 3786 images; without them
(`skin_tones=False`) the set has 1906 images and no class above 20%.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image

from ..errors import StyleGANError

if TYPE_CHECKING:
    from .prepare import PrepareReport

NPM_PACKAGE = "emoji-datasource-google"
NPM_VERSION = "16.0.0"
FONT_PATH = Path("/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf")
LICENSE = "Apache-2.0"
LICENSE_NOTE = (
    "Noto Color Emoji images by Google, Apache License 2.0 (https://github.com/googlefonts/noto-emoji); "
    "metadata from emoji-datasource (MIT)."
)

#: Unicode emoji groups in the order of the standard; 'Component' (skin-tone swatches, hair) is folded into
#: 'Symbols' so that every class is a group a person would name.
GROUPS = [
    "Smileys & Emotion",
    "People & Body",
    "Animals & Nature",
    "Food & Drink",
    "Travel & Places",
    "Activities",
    "Objects",
    "Symbols",
    "Flags",
]


#: The Fitzpatrick skin-tone modifiers U+1F3FB..U+1F3FF, as they appear in npm file names (1f44b-1f3fb.png)
#: and in the font's glyph names (u1F44B_1F3FB).
_SKIN_TONE = re.compile(r"1f3f[b-f]", re.IGNORECASE)


def is_skin_tone_variant(name: str) -> bool:
    """Whether an emoji image name holds a skin-tone modifier (the variants and the five tone swatches)."""
    return _SKIN_TONE.search(name) is not None


@dataclass(frozen=True)
class EmojiImage:
    name: str  # file name, e.g. 1f600.png
    group: str | None
    data: bytes  # PNG bytes (RGBA)


def _codepoints_key(unified: str) -> str:
    return unified.lower()


def find_npm_package(search: list[Path] | None = None) -> Path | None:
    """The emoji-datasource-google folder in ./node_modules, the stylegan cache, or None."""
    from ..io.pretrained import cache_dir

    candidates = list(search or []) + [
        Path.cwd() / "node_modules" / NPM_PACKAGE,
        cache_dir() / "npm" / "node_modules" / NPM_PACKAGE,
    ]
    for c in candidates:
        if (c / "emoji.json").is_file() and (c / "img" / "google" / "64").is_dir():
            return c
    return None


def install_npm_package(log: Callable[[str], None] = print) -> Path:
    """Install emoji-datasource-google into the stylegan cache with npm (needs npm and its registry)."""
    from ..io.pretrained import cache_dir

    npm = shutil.which("npm")
    if npm is None:
        raise StyleGANError(
            f"no emoji images found: install Node.js's npm and run `npm install {NPM_PACKAGE}`, or "
            "`apt-get install fonts-noto-color-emoji`, or pass --source"
        )
    prefix = cache_dir() / "npm"
    prefix.mkdir(parents=True, exist_ok=True)
    log(f"installing {NPM_PACKAGE}@{NPM_VERSION} with npm into {prefix} ...")
    p = subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", "--prefix", str(prefix), f"{NPM_PACKAGE}@{NPM_VERSION}"],
        capture_output=True,
        text=True,
    )
    found = find_npm_package([prefix / "node_modules" / NPM_PACKAGE])
    if p.returncode != 0 or found is None:
        raise StyleGANError(f"npm install {NPM_PACKAGE} failed: {p.stderr.strip().splitlines()[-1:] or p.returncode}")
    return found


def _group_table(package: Path) -> dict[str, str]:
    """Map image file name and codepoint key -> Unicode group, for base emoji and skin-tone variants."""
    table: dict[str, str] = {}
    for e in json.loads((package / "emoji.json").read_text(encoding="utf-8")):
        group = e["category"] if e["category"] in GROUPS else "Symbols"
        table[e["image"]] = group
        table[_codepoints_key(e["unified"])] = group
        for var in (e.get("skin_variations") or {}).values():
            table[var["image"]] = group
            table[_codepoints_key(var["unified"])] = group
    return table


def iter_npm_images(package: Path) -> Iterator[EmojiImage]:
    """Every 64x64 PNG of the npm package, sorted by name, with its group."""
    groups = _group_table(package)
    for path in sorted((package / "img" / "google" / "64").glob("*.png")):
        yield EmojiImage(path.name, groups.get(path.name), path.read_bytes())


def iter_font_images(font: Path, package: Path | None = None) -> Iterator[EmojiImage]:
    """Every colour bitmap of the Noto Color Emoji font (CBDT table), labelled when emoji.json is available."""
    try:
        from fontTools.ttLib import TTFont
    except ImportError:
        raise StyleGANError("reading the emoji font needs fontTools: pip install fonttools") from None
    tt = TTFont(str(font))
    reverse: dict[str, int] = {}
    for cp, glyph in tt.getBestCmap().items():
        reverse.setdefault(glyph, cp)
    groups = _group_table(package) if package is not None else {}
    for glyph, bitmap in sorted(tt["CBDT"].strikeData[0].items()):
        cp = reverse.get(glyph)
        key = f"{cp:04x}" if cp is not None else glyph
        yield EmojiImage(f"{key}.png", groups.get(key), bitmap.imageData)


def flatten(data: bytes, background: tuple[int, int, int]) -> Image.Image:
    """Composite an RGBA emoji over a solid background -> RGB."""
    im = Image.open(io.BytesIO(data)).convert("RGBA")
    bg = Image.new("RGBA", im.size, background + (255,))
    return Image.alpha_composite(bg, im).convert("RGB")


def build_emoji_dataset(
    dest: str | os.PathLike[str],
    *,
    resolution: int = 32,
    source: str | os.PathLike[str] | None = None,
    background: tuple[int, int, int] = (255, 255, 255),
    labels: bool = True,
    skin_tones: bool = True,
    progress: Callable[[int, int], None] | None = None,
    log: Callable[[str], None] = print,
) -> PrepareReport:
    """Write the emoji dataset in NVIDIA's layout (zip of PNGs + dataset.json with group labels and licence).

    `source`: the emoji-datasource-google folder or the NotoColorEmoji.ttf font; by default the npm package in
    ./node_modules or the cache (installed with npm when missing), then Debian's font file.
    `skin_tones=False` leaves out every image with a skin-tone modifier, which balances the classes.
    """
    from .prepare import check_resolution, prepare_dataset

    check_resolution(resolution)
    package: Path | None = None
    if source is not None:
        src = Path(source)
        if src.is_file() and src.suffix.lower() in (".ttf", ".otf"):
            images = iter_font_images(src, find_npm_package())
            origin = f"font {src}"
        elif (src / "emoji.json").is_file():
            package = src
            images = iter_npm_images(src)
            origin = f"npm {NPM_PACKAGE} at {src}"
        else:
            raise StyleGANError(f"--source {src}: expected the {NPM_PACKAGE} folder or NotoColorEmoji.ttf")
    else:
        package = find_npm_package()
        if package is None and FONT_PATH.is_file():
            images = iter_font_images(FONT_PATH, None)
            origin = f"font {FONT_PATH}"
        else:
            package = package or install_npm_package(log)
            images = iter_npm_images(package)
            origin = f"npm {NPM_PACKAGE} at {package}"

    with tempfile.TemporaryDirectory(prefix="emoji-") as tmp:
        root = Path(tmp)
        count = 0
        for img in images:
            if not skin_tones and is_skin_tone_variant(img.name):
                continue
            group = img.group if labels else None
            if labels and group is None:
                continue
            folder = root / (group if group else "all")  # class names = Unicode group names (sorted)
            folder.mkdir(exist_ok=True)
            flatten(img.data, background).save(folder / img.name)
            count += 1
        if count == 0:
            raise StyleGANError(f"no emoji images could be read from {origin}")
        log(f"read {count} emoji images from {origin}")
        return prepare_dataset(
            root,
            dest,
            resolution=resolution,
            transform="stretch",
            labels="from-folders" if labels else None,
            background=background,
            progress=progress,
            metadata={"source": origin, "license": LICENSE, "license_note": LICENSE_NOTE, "skin_tones": skin_tones},
        )
