"""Latent editing: semantic directions (`directions`), operations on latents (`latent_ops`), and editing latents
along a direction (`edit`, from `apply`).

Optional dependencies (scikit-learn for the logistic and SVM fits) are imported only when used. Projection, the
encoder, attribution and face alignment live in `stylegan.inversion`.
"""

from .apply import EditResult, edit, save_edit
from .directions import Direction

__all__ = ["Direction", "EditResult", "edit", "save_edit"]
