"""Decoding arbitrary image files and fitting them to a square training resolution.

Every PIL mode is handled: 1, L, LA, La, P (with or without transparency), PA, RGB, RGBA, RGBa, CMYK, YCbCr,
LAB, HSV, 16-bit (I;16*), 32-bit integer (I) and float (F) images. Transparent pixels are composited over a
background colour rather than dropped, so an RGBA image never shows the garbage stored under alpha 0.
"""

from __future__ import annotations

import io
import warnings
from typing import Literal

import numpy as np
from PIL import Image, ImageOps

from .sources import reason

Transform = Literal["center-crop", "center-crop-wide", "pad", "stretch"]
TRANSFORMS: tuple[str, ...] = ("center-crop", "center-crop-wide", "pad", "stretch")
RESIZE_FILTERS: dict[str, Image.Resampling] = {
    "lanczos": Image.Resampling.LANCZOS,
    "box": Image.Resampling.BOX,
    "bicubic": Image.Resampling.BICUBIC,
    "bilinear": Image.Resampling.BILINEAR,
    "nearest": Image.Resampling.NEAREST,
}
_CHANNEL_MODES = {1: "L", 3: "RGB", 4: "RGBA"}


#: The most pixels an image may declare (PIL's own decompression-bomb threshold, about 9459 x 9459): a larger one
#: is refused from its header, before any of it is decoded.
MAX_IMAGE_PIXELS = 89_478_485


class BadImage(ValueError):
    """A file that is not a decodable image; the message says why, in a few words."""


def _open_checked(data: bytes) -> Image.Image:
    """The image opened (header only) with its declared size checked against MAX_IMAGE_PIXELS."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img: Image.Image = Image.open(io.BytesIO(data))
    except Image.UnidentifiedImageError:
        raise BadImage("not an image") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise BadImage(f"too large (over {MAX_IMAGE_PIXELS} pixels)") from None
    except Exception as e:  # any failure to parse a header means a corrupt file
        raise BadImage(f"corrupt ({reason(e)})") from None
    w, h = img.size
    if w * h > MAX_IMAGE_PIXELS:
        raise BadImage(f"too large: declares {w}x{h} pixels (at most {MAX_IMAGE_PIXELS})")
    if w < 1 or h < 1:
        raise BadImage("empty image")
    return img


def image_size(data: bytes) -> tuple[int, int]:
    """(width, height) an image file declares, read from its header without decoding the pixels (after EXIF
    orientation, as `decode_image` gives it). Raises BadImage as `decode_image` does for what it can tell."""
    img = _open_checked(data)
    w, h = img.size
    try:
        if img.format == "PNG":  # PIL's PNG getexif() decodes the pixels: read the eXIf chunk met so far
            exif = Image.Exif()
            if img.info.get("exif"):
                exif.load(img.info["exif"])
        else:
            exif = img.getexif()
        orientation = exif.get(0x0112, 1)
    except Exception:  # a broken EXIF block: decode_image ignores it too
        orientation = 1
    return (h, w) if orientation in (5, 6, 7, 8) else (w, h)


def decode_image(data: bytes) -> Image.Image:
    """Fully decode an image file (any format PIL reads) and apply its EXIF orientation.

    Raises BadImage for anything that is not an image, is truncated, or is absurdly large (declared size checked
    before decoding).
    """
    img = _open_checked(data)
    fmt = img.format
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise BadImage(f"too large (over {MAX_IMAGE_PIXELS} pixels)") from None
    except Exception as e:  # truncated / corrupt data, whatever the decoder raises
        raise BadImage(f"corrupt ({reason(e)})") from None
    if img.width < 1 or img.height < 1:
        raise BadImage("empty image")
    try:
        img = ImageOps.exif_transpose(img)
    except Exception:  # a broken EXIF block is not worth losing the image for
        pass
    img.format = fmt  # keep the source format for reports (exif_transpose may drop it)
    return img


def _wide_to_8bit(img: Image.Image) -> Image.Image:
    """16-bit, 32-bit integer or float single-channel images -> 8-bit 'L' (full range mapped to 0..255)."""
    a = np.asarray(img).astype(np.float64)
    if img.mode == "F":
        a = a * 255 if a.size and a.max() <= 1.0 else a
    elif img.mode.startswith("I;16") or (a.size and a.max() > 255):
        a = a / 257.0  # 0..65535 -> 0..255
    return Image.fromarray(np.clip(np.rint(a), 0, 255).astype(np.uint8), "L")


def to_channels(img: Image.Image, channels: int = 3, background: tuple[int, int, int] = (0, 0, 0)) -> Image.Image:
    """Convert any PIL image to 'L' (1 channel), 'RGB' (3) or 'RGBA' (4); alpha is composited over `background`
    unless 4 channels are asked for."""
    if channels not in _CHANNEL_MODES:
        raise ValueError(f"channels must be 1, 3 or 4, got {channels}")
    mode = img.mode
    if mode in ("I", "F") or mode.startswith("I;16"):
        img = _wide_to_8bit(img)
    elif mode == "1":
        img = img.convert("L")
    elif mode == "P" or mode == "PA":
        img = img.convert("RGBA" if ("transparency" in img.info or mode == "PA") else "RGB")
    elif mode in ("LA", "La", "RGBa"):
        img = img.convert("RGBA")
    elif mode not in ("L", "RGB", "RGBA"):  # CMYK, YCbCr, LAB, HSV, ...
        img = img.convert("RGB")

    if img.mode == "RGBA" and channels != 4:
        canvas = Image.new("RGB", img.size, background)
        canvas.paste(img, mask=img.getchannel("A"))
        img = canvas
    target = _CHANNEL_MODES[channels]
    if img.mode != target:
        img = img.convert(target)
    return img


def _canvas(mode: str, size: tuple[int, int], background: tuple[int, int, int]) -> Image.Image:
    if mode == "L":
        return Image.new("L", size, int(round(0.299 * background[0] + 0.587 * background[1] + 0.114 * background[2])))
    if mode == "RGBA":
        return Image.new("RGBA", size, (*background, 0))
    return Image.new(mode, size, background)


def fit_image(
    img: Image.Image,
    resolution: int,
    transform: Transform = "center-crop",
    *,
    wide_aspect: float = 4 / 3,
    background: tuple[int, int, int] = (0, 0, 0),
    resize_filter: str = "lanczos",
) -> Image.Image:
    """Fit an image of any size into `resolution x resolution`.

    - `center-crop`: crop the largest centred square, then resize.
    - `center-crop-wide`: crop the centre to the `wide_aspect` (width / height, default 4:3) and letterbox it,
      full width, into a square canvas of the background colour (NVIDIA's LSUN-car style).
    - `pad`: pad the short side to a square with the background colour, then resize (keeps everything).
    - `stretch`: resize to the square, ignoring the aspect ratio.
    """
    if transform not in TRANSFORMS:
        raise ValueError(f"transform must be one of {', '.join(TRANSFORMS)}, got {transform!r}")
    resample = RESIZE_FILTERS[resize_filter]
    w, h = img.size
    if transform == "center-crop":
        s = min(w, h)
        img = img.crop(((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s))
        return img.resize((resolution, resolution), resample)
    if transform == "stretch":
        return img.resize((resolution, resolution), resample)
    if transform == "pad":
        s = max(w, h)
        canvas = _canvas(img.mode, (s, s), background)
        canvas.paste(img, ((s - w) // 2, (s - h) // 2))
        return canvas.resize((resolution, resolution), resample)
    # center-crop-wide
    if w / h > wide_aspect:  # too wide: crop the sides
        cw, ch = max(1, round(h * wide_aspect)), h
    else:  # too tall: crop top and bottom
        cw, ch = w, max(1, round(w / wide_aspect))
    img = img.crop(((w - cw) // 2, (h - ch) // 2, (w - cw) // 2 + cw, (h - ch) // 2 + ch))
    out_h = max(1, min(resolution, round(resolution / wide_aspect)))
    img = img.resize((resolution, out_h), resample)
    canvas = _canvas(img.mode, (resolution, resolution), background)
    canvas.paste(img, (0, (resolution - out_h) // 2))
    return canvas


def image_to_chw(img: Image.Image) -> np.ndarray:
    """PIL image -> uint8 [C, H, W] array (grayscale gives C = 1)."""
    a = np.asarray(img, dtype=np.uint8)
    if a.ndim == 2:
        a = a[:, :, None]
    return np.ascontiguousarray(a.transpose(2, 0, 1))


def encode_png(img: Image.Image, compress_level: int = 0) -> bytes:
    """PNG bytes; level 0 (uncompressed) is what NVIDIA's dataset tool writes, the fastest to decode."""
    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=compress_level)
    return buf.getvalue()
