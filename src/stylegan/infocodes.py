"""InfoGAN latent codes for StyleGAN (Info-StyleGAN): a categorical code of `cat` values (one-hot) and `cont`
continuous codes (uniform in [-1, 1]) that the generator receives and a Q head on the discriminator's trunk
learns to recover, so that each code comes to control something recognisable in the images.

How the codes enter G: through its conditioning path. The mapping network already embeds a label vector c and
concatenates it with z; the code vector [one-hot cat, cont] is appended to the dataset's own labels (none for an
unconditional run), so G's `c_dim` is `label_dim + cat + cont`, and generating with a chosen code is generating
with a chosen c. D stays unconditional (or conditional on the dataset's labels only) and predicts the codes with
its Q head (`DiscriminatorConfig.q_dim = cat + cont` outputs).

A network trained this way records `InfoCodes.to_dict()` in its checkpoint metadata under `info`;
`read_info_codes` reads it back and `info_labels` builds the c that renders a given code.

>>> codes = InfoCodes(cat=4, cont=1)
>>> info_labels(codes, 3, cont=[0.5], n=2).tolist()
[[0.0, 0.0, 0.0, 1.0, 0.5], [0.0, 0.0, 0.0, 1.0, 0.5]]
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import Tensor

from .errors import SettingError, StyleGANError

#: The most values of the categorical code and the most continuous codes a run may have.
MAX_CAT = 1024
MAX_CONT = 64
#: The metadata key of a checkpoint that records the codes.
METADATA_KEY = "info"


@dataclass(frozen=True)
class InfoCodes:
    """The latent codes of an Info-StyleGAN run: `cat` values of one categorical code (0 = none; otherwise at
    least 2), `cont` continuous codes, and `weight` λ, the weight of the mutual-information term (the Q loss) in
    both G's and D's losses. `label_dim` is the number of the dataset's own label dimensions that come before the
    codes in G's c (0 for an unconditional run).

    The Q loss is the categorical cross-entropy plus, for the continuous codes, the Gaussian negative
    log-likelihood with a fixed unit variance (0.5·(c - μ)² per code, without its constant): a learned variance
    lets Q make the term arbitrarily negative and its gradients large when it grows confident, whereas a fixed one
    keeps the term bounded (at most 2 per code, about 1/6 when Q knows nothing) and on the same scale as the
    categorical term, so that one λ suits both.
    """

    cat: int = 0
    cont: int = 0
    weight: float = 1.0
    label_dim: int = 0

    def __post_init__(self) -> None:
        for name, value, high in (("info_cat", self.cat, MAX_CAT), ("info_cont", self.cont, MAX_CONT)):
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= high:
                raise SettingError(f"{{{name}}} must be an integer in [0, {high}], got {value!r}", name)
        if self.cat == 1:
            raise SettingError("{info_cat} 1: a categorical code needs at least 2 values", "info_cat")
        if self.cat + self.cont == 0:
            raise SettingError("Info-StyleGAN needs {info_cat} or {info_cont}", "info_cat", "info_cont")
        w = self.weight
        if not isinstance(w, (int, float)) or isinstance(w, bool) or not (math.isfinite(w) and 0 <= w <= 1e6):
            raise SettingError(f"{{info_weight}} must be a finite number in [0, 1e6], got {w!r}", "info_weight")
        if not isinstance(self.label_dim, int) or self.label_dim < 0:
            raise ValueError(f"label_dim must be an integer >= 0, got {self.label_dim!r}")

    @property
    def dim(self) -> int:
        """Dimensions the codes add to G's c, and the outputs of D's Q head: cat + cont."""
        return self.cat + self.cont

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> InfoCodes:
        if not isinstance(d, Mapping):
            raise TypeError(f"info codes must be a JSON object, got {type(d).__name__}")
        unknown = sorted(set(d) - {"cat", "cont", "weight", "label_dim"})
        if unknown:
            raise ValueError(f"unknown info-code fields: {', '.join(unknown)}")
        return cls(**dict(d))

    def sample(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """n random code vectors [n, dim]: a uniformly drawn one-hot category, then continuous codes in [-1, 1]."""
        dev = generator.device if generator is not None else "cpu"
        parts = []
        if self.cat:
            idx = torch.randint(self.cat, [n], generator=generator, device=dev)
            parts.append(torch.nn.functional.one_hot(idx, self.cat).float())
        if self.cont:
            parts.append(torch.rand([n, self.cont], generator=generator, device=dev) * 2 - 1)
        return torch.cat(parts, dim=1)

    def split(self, c: Tensor) -> tuple[Tensor | None, Tensor]:
        """G's c [N, label_dim + dim] -> (the dataset's labels or None, the codes [N, dim])."""
        labels = c[:, : self.label_dim] if self.label_dim else None
        return labels, c[:, self.label_dim :]


def info_loss(q: Tensor, codes: Tensor, info: InfoCodes) -> tuple[Tensor, Tensor, Tensor]:
    """The Q loss per sample, in parts: (categorical cross-entropy [N], continuous Gaussian NLL with unit variance
    [N] (summed over the codes, without its constant), whether Q's most likely category is right [N]). `q` [N, dim]
    holds the category logits and then the predicted means; `codes` [N, dim] the codes G was given. Parts a run
    does not have are zeros."""
    n = q.shape[0]
    q = q.float()
    zeros = torch.zeros([n], device=q.device)
    ce, right = zeros, zeros
    if info.cat:
        target = codes[:, : info.cat].argmax(dim=1)
        logits = q[:, : info.cat]
        ce = torch.nn.functional.cross_entropy(logits, target, reduction="none")
        right = (logits.detach().argmax(dim=1) == target).float()
    nll = zeros
    if info.cont:
        nll = 0.5 * (q[:, info.cat :] - codes[:, info.cat :]).square().sum(dim=1)
    return ce, nll, right


def info_labels(
    info: InfoCodes,
    code: int | Sequence[int] | None,
    cont: Sequence[float] | None = None,
    n: int = 1,
    *,
    class_idx: int | None = None,
    device: torch.device | str = "cpu",
) -> Tensor:
    """The c [N, label_dim + dim] that makes G render categorical value `code` (one for all N images, or one per
    image) with continuous codes `cont` (default all 0), and, for a network also trained on the dataset's labels,
    class `class_idx`. Out-of-range values are a one-line SettingError naming the setting."""
    if isinstance(code, int) or code is None:
        codes = [code] * n
    else:
        codes = list(code)
    if info.cat == 0 and any(c is not None for c in codes):
        raise SettingError("{info_code}: this network has no categorical code (only continuous ones)", "info_code")
    if info.cat and any(c is None for c in codes):
        raise SettingError(f"{{info_code}}: give a categorical code in 0-{info.cat - 1}", "info_code")
    for c in codes:
        if c is not None and not 0 <= c < info.cat:
            raise SettingError(
                f"{{info_code}} {c} is out of range: this network's categorical code has {info.cat} values "
                f"(0-{info.cat - 1})",
                "info_code",
            )
    values = [0.0] * info.cont if cont is None else [float(v) for v in cont]
    if len(values) != info.cont:
        raise SettingError(
            f"{{info_cont}}: {len(values)} value(s) given but this network has {info.cont} continuous code(s)",
            "info_cont",
        )
    if any(not math.isfinite(v) for v in values):
        raise SettingError("{info_cont}: values must be finite numbers (trained on [-1, 1])", "info_cont")
    if class_idx is not None and not info.label_dim:
        raise SettingError("{class_idx}: this network has no classes, only its info codes", "class_idx")
    rows = len(codes)
    out = torch.zeros([rows, info.label_dim + info.dim])
    if info.label_dim:
        if class_idx is None:
            raise SettingError(
                f"{{class_idx}}: this network is also conditional on {info.label_dim} classes: give one",
                "class_idx",
            )
        if not 0 <= class_idx < info.label_dim:
            raise SettingError(
                f"{{class_idx}} {class_idx} is out of range: the network has {info.label_dim} classes", "class_idx"
            )
        out[:, class_idx] = 1.0
    for i, c in enumerate(codes):
        if c is not None:
            out[i, info.label_dim + c] = 1.0
    if info.cont:
        out[:, info.label_dim + info.cat :] = torch.tensor(values)
    return out.to(device)


def codes_from_metadata(metadata: Mapping[str, Any]) -> InfoCodes | None:
    """The codes a checkpoint's metadata records (None for a network trained without them)."""
    value = metadata.get(METADATA_KEY)
    if value is None:
        return None
    try:
        return InfoCodes.from_dict(value)
    except (TypeError, ValueError) as e:
        raise StyleGANError(f"the checkpoint's info-code metadata cannot be used ({e}); the file is damaged") from None


def read_info_codes(source: str | os.PathLike[str]) -> InfoCodes | None:
    """The info codes of the network `source` (a file, URL or registry name, as `stylegan.load` takes), read from
    its metadata without building it; None when it was trained without them."""
    from .io import read_checkpoint
    from .io.pretrained import read_resolved

    path, raw = read_resolved(source, read_checkpoint)
    try:
        return codes_from_metadata(raw.metadata)
    except StyleGANError as e:
        raise StyleGANError(f"{path}: {e}") from None


def network_info_labels(
    source: str | os.PathLike[str] | None,
    code: int | None,
    cont: Sequence[float] | None,
    seeds: Sequence[int] | None,
    *,
    class_idx: int | None = None,
    c_dim: int | None = None,
) -> Tensor:
    """What `stylegan generate --info-code` renders: the c [len(seeds), c_dim] for code `code` (None: seed s gets
    code s % cat) and continuous values `cont` on the network `source` (None: the default network). A network
    trained without info codes is a one-line error naming it; so is a code out of range, or no seeds. `c_dim`, when
    given, is checked against the codes."""
    from .io import resolve_network

    if seeds is None:
        raise SettingError("{info_code} and {info_cont} go with {seeds}", "info_code", "info_cont", "seeds")
    source = resolve_network(None if source is None else str(source))
    info = read_info_codes(source)
    if info is None:
        raise SettingError(
            f"{{info_code}}: {source} was trained without info codes (stylegan train --info-cat K)", "info_code"
        )
    if c_dim is not None and c_dim != info.label_dim + info.dim:
        raise StyleGANError(f"{source}: its info-code metadata does not match its generator (c_dim {c_dim})")
    codes: int | list[int] | None = code
    if code is None and info.cat:
        codes = [s % info.cat for s in seeds]
    return info_labels(info, codes, cont, len(seeds), class_idx=class_idx)
