"""Latent editing: semantic directions (`directions`), operations on latents (`latent_ops`), and editing latents
along a direction (`edit`, from `apply`); directions made by other tools are read with `import_direction` (from
`importing`).

Optional dependencies (scikit-learn for the logistic and SVM fits) are imported only when used. Projection, the
encoder, attribution and face alignment live in `stylegan.inversion`.
"""

from .apply import EditResult, edit, save_edit
from .directions import Direction
from .importing import import_direction

__all__ = ["Direction", "EditResult", "edit", "import_direction", "save_edit"]
