"""Inversion: from real images back to the network's latents, and what is built on that.

- `projection`: optimise a latent (and the noise maps) until the generator reproduces a target image;
- `encoder`: a trained image -> W+ network, used alone or as projection's starting point;
- `attribution`: "did this network generate this image?", judged by the projection distance;
- `alignment`: FFHQ face alignment of photos, the alignment record, and pasting an edited face back.
"""

from .alignment import AlignedFace, align_face, detect_landmarks, paste_face
from .attribution import Attribution, Calibration, attribute, calibrate
from .encoder import Encoder, EncoderConfig, encode, load_encoder, train_encoder
from .projection import ProjectionResult, preprocess_target, project, render_projection, save_projection

__all__ = [
    "AlignedFace",
    "Attribution",
    "Calibration",
    "Encoder",
    "EncoderConfig",
    "ProjectionResult",
    "align_face",
    "attribute",
    "calibrate",
    "detect_landmarks",
    "encode",
    "load_encoder",
    "paste_face",
    "preprocess_target",
    "project",
    "render_projection",
    "save_projection",
    "train_encoder",
]
