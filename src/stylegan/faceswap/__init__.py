"""Face swap: a generated person's face put into a video (seed 001's face video).

An identity set of one generated person (`stylegan latent variations --layers 0`), the faces of a target video,
a face-swap autoencoder trained on both (`model`, `train`), and the video re-rendered with the generated person's
face (`apply`)."""

from .apply import SwapReport, swap_face, swap_video
from .faces import FaceSet, collect_faces
from .model import FaceSwapConfig, FaceSwapModel, load_faceswap, save_faceswap
from .train import train_faceswap

__all__ = [
    "FaceSet",
    "FaceSwapConfig",
    "FaceSwapModel",
    "SwapReport",
    "collect_faces",
    "load_faceswap",
    "save_faceswap",
    "swap_face",
    "swap_video",
    "train_faceswap",
]
