"""What every page of the web app shares: the networks, the history, the cache, the labels and a few widgets.

A page module has `LABELS` (its English and Chinese words) and `build(ctx) -> Page`, called inside the app's
`gr.Tabs`. Handlers get the network's source from `ctx.network` (the model picker) and call library functions;
`ctx.keep` files a result in the history and returns the share query of its recipe.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import torch

from ..errors import StyleGANError
from ..latents import parse_range
from ..networks import Generator
from .session import Entry, History, Model, ModelStore, ResultCache, recipe_query

if TYPE_CHECKING:
    from ..networks.synthesis import NoiseMode

#: Noise modes offered by every page: `const` (the network's stored maps: reproducible), `random` (drawn from
#: the noise seed), `none` (no noise).
NOISE_MODES = ["const", "random", "none"]

#: The most images one request may ask for (memory stays bounded).
MAX_IMAGES = 64


@dataclass
class Page:
    """A page of the app.

    id: the tab's id (generate, customise, mix, edit, photo, fuse, video, history).
    restore_outputs: components a recipe (from the history or a link) can fill in.
    restore: recipe -> one value (or gr.update) per component of `restore_outputs`.
    latent_input: where another page can hand a latent spec over (`history:ID`), if the page takes latents.
    accept: (current value of latent_input, handed-over spec) -> new value (default: replace).
    """

    id: str
    restore_outputs: list[Any] = field(default_factory=list)
    restore: Callable[[dict[str, Any]], list[Any]] | None = None
    latent_input: Any = None
    accept: Callable[[Any, str], Any] | None = None


@dataclass
class UIContext:
    """Shared state of one running app (see the module docstring)."""

    models: ModelStore
    history: History
    cache: ResultCache
    workdir: Path
    concurrency_limit: int = 1
    encoder: str | None = None
    directions: list[str] = field(default_factory=list)
    zgen: str | None = None
    # Widgets, set by the app before pages are built:
    network: Any = None
    share_query: Any = None
    tabs: Any = None
    i18n: Any = None
    #: (button, component holding a latent spec, target page id): the app sends the spec to that page.
    handovers: list[tuple[Any, Any, str]] = field(default_factory=list)
    #: (button, component holding a history entry id): the app reopens the entry in the page that made it.
    reopeners: list[tuple[Any, Any]] = field(default_factory=list)

    def t(self, key: str) -> Any:
        """The translated label for `key` (plain `key` when no i18n is set, e.g. in tests)."""
        return self.i18n(key) if self.i18n is not None else key

    @property
    def device_queue(self) -> dict[str, Any]:
        """Event arguments that put a handler on the shared device queue (bounded concurrency)."""
        return {"concurrency_id": "device", "concurrency_limit": self.concurrency_limit}

    def model(self, source: str | None) -> Model:
        return self.models.get(source)

    # ----------------------------------------------------------------------------------------------------
    # Latents and rendering

    def parse_seeds(self, text: str | float | int, what: str = "seeds") -> list[int]:
        """`0-3,7` -> [0, 1, 2, 3, 7], at most MAX_IMAGES, each a valid seed."""
        seeds = parse_range(str(text).strip() if text is not None else "", lo=0, hi=2**32 - 1, what=what)
        if not seeds:
            raise StyleGANError(f"{what}: give at least one seed, e.g. 0-3,7")
        if len(seeds) > MAX_IMAGES:
            raise StyleGANError(f"{what}: {len(seeds)} seeds asked for; at most {MAX_IMAGES} per request")
        return seeds

    def latents(
        self,
        model: Model,
        spec: str,
        *,
        psi: float = 1.0,
        cutoff: int | None = None,
        class_idx: int | None = None,
    ) -> torch.Tensor:
        """ws [N, num_ws, w_dim] for `seed:N` / `seed:0-3`, `history:ID` (a kept result) or a latent file."""
        from ..editing.latent_ops import check_latents, resolve_latent

        spec = str(spec or "").strip()
        if not spec:
            raise StyleGANError("no latent given: type seed:N, history:ID, or upload a latent file")
        if spec.startswith("history:"):
            entry = self.history.get(spec.split(":", 1)[1])
            if entry.recipe.get("network_hash") not in (None, model.hash):
                raise StyleGANError(
                    f"history entry {entry.id} was made with network {entry.recipe.get('network')}; load that "
                    "network to use its latents"
                )
            ws = self.history.latents(entry.id)
            check_latents(model.G, ws, f"history entry {entry.id}")
            return ws
        if not spec.startswith("seed:") and not self.may_read(spec):
            raise StyleGANError(
                f"{spec[:60]!r}: type seed:N or history:ID; latent files come in through the upload button "
                "(the app reads no other file of this machine)"
            )
        return resolve_latent(model.G, spec, psi=psi, truncation_cutoff=cutoff, class_idx=class_idx)

    def may_read(self, path: str | os.PathLike[str]) -> bool:
        """Whether a path a request names is one the app may read: an upload, or a file of this session."""
        import gradio.utils

        try:
            resolved = Path(path).resolve()
        except (OSError, RuntimeError):
            return False
        roots = [Path(gradio.utils.get_upload_folder()).resolve(), self.workdir.resolve()]
        return any(resolved.is_relative_to(root) for root in roots)

    def render(self, model: Model, ws: torch.Tensor, noise: str = "const", noise_seed: int = 0) -> np.ndarray:
        """Images uint8 [N, H, W, C] of latents ws; `random` noise is drawn from `noise_seed` (reproducible)."""
        from ..generation import synthesize

        mode = noise_mode(noise)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(noise_seed))
            return synthesize(model.G, ws, noise_mode=mode, progress=False)

    def keep(self, image: np.ndarray, recipe: dict[str, Any], ws: torch.Tensor | None = None) -> tuple[Entry, str]:
        """File a result in the history; returns the entry and the share query of its recipe."""
        entry = self.history.add(image, recipe, ws)
        return entry, recipe_query(entry.recipe)

    def base_recipe(self, kind: str, model: Model, **settings: Any) -> dict[str, Any]:
        """The recipe fields every result has, plus the page's settings."""
        return {"kind": kind, "network": model.source, "network_hash": model.hash, **settings}


def user_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a handler so that a user's mistake reaches the browser (or API caller) as one clear line.

    Generator handlers (streamed results) are wrapped too; gradio inspects the wrapper's signature, which
    `functools.wraps` keeps."""
    import functools
    import inspect

    import gradio as gr

    if inspect.isgeneratorfunction(fn):

        @functools.wraps(fn)
        def stream(*args: Any, **kwargs: Any) -> Any:
            try:
                yield from fn(*args, **kwargs)
            except (StyleGANError, ValueError, OSError) as e:
                raise gr.Error(str(e), print_exception=False) from None
            except TypeError as e:  # e.g. int(None): a number box left empty
                raise gr.Error(f"a field is empty or not a number ({e})", print_exception=False) from None

        return stream

    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (StyleGANError, ValueError, OSError) as e:
            raise gr.Error(str(e), print_exception=False) from None
        except TypeError as e:  # e.g. int(None): a number box left empty
            raise gr.Error(f"a field is empty or not a number ({e})", print_exception=False) from None

    return call


# ---------------------------------------------------------------------------------------------------------
# Long jobs: run in a worker thread, report progress, stop when the browser cancels


class JobStopped(StyleGANError):
    """Raised inside a job's worker when the user stopped it."""


@dataclass
class Job:
    stop: threading.Event = field(default_factory=threading.Event)
    progress: tuple[int, int, str] | None = None


_current = threading.local()


def job_step(done: int, total: int, what: str = "frames") -> None:
    """Called by long loops: records progress for the browser and raises `JobStopped` once the user stopped."""
    job: Job | None = getattr(_current, "job", None)
    if job is None:
        return
    if job.stop.is_set():
        raise JobStopped("stopped")
    job.progress = (done, total, what)


def streamed(n_outputs: int, poll: float = 0.3) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Turn a blocking handler with `n_outputs` outputs into a streamed, cancellable one.

    The handler runs in a worker thread; while it runs, gradio's progress bar shows what `job_step` reports, and
    the event can be cancelled (a Stop button's `cancels=`): closing the stream sets the job's stop flag, and the
    worker's next `job_step` ends it. The final yield holds the handler's outputs."""
    import functools
    import inspect

    import gradio as gr

    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> Any:
            progress = kwargs.pop("progress", None)
            if args and isinstance(args[-1], gr.Progress):  # gradio passes it positionally, after the inputs
                progress, args = args[-1], args[:-1]
            job, box = Job(), {}

            def work() -> None:
                _current.job = job
                try:
                    box["result"] = fn(*args, **kwargs)
                except BaseException as e:  # handed to the stream, which raises it in the handler's thread
                    box["error"] = e
                finally:
                    _current.job = None

            worker = threading.Thread(target=work, daemon=True, name=f"ui-{fn.__name__}")
            worker.start()
            try:
                while worker.is_alive():
                    worker.join(poll)
                    if job.progress is not None and progress is not None:
                        done, total, what = job.progress
                        progress((done, total), desc=what, unit=what)
                    yield tuple(gr.skip() for _ in range(n_outputs))
            finally:  # also when gradio closes the stream (cancelled): stop the worker at its next step
                job.stop.set()
                worker.join(timeout=60)
            if "error" in box:
                raise box["error"]
            yield box["result"]

        sig = inspect.signature(fn)
        # gradio injects a progress tracker into a positional parameter whose default is one
        extra = inspect.Parameter("progress", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=gr.Progress())
        run.__signature__ = sig.replace(parameters=[*sig.parameters.values(), extra])  # type: ignore[attr-defined]
        return run

    return wrap


def noise_mode(value: str) -> NoiseMode:
    """The noise widget's value, checked: const, random or none."""
    if value not in NOISE_MODES:
        raise StyleGANError(f"noise must be one of {', '.join(NOISE_MODES)}, got {value!r}")
    return cast("NoiseMode", value)


def cutoff_or_none(value: float | int | None) -> int | None:
    """The cutoff widget's value: -1 (or empty) means every layer is truncated (None)."""
    if value is None or value == "" or int(value) < 0:
        return None
    return int(value)


def class_or_none(G: Generator, value: Any) -> int | None:
    """A class index for a conditional network (None for an unconditional one, or when left at -1/empty)."""
    if G.c_dim == 0 or value is None or value == "" or int(value) < 0:
        return None
    idx = int(value)
    if idx >= G.c_dim:
        raise StyleGANError(f"class {idx} is out of range: the network has {G.c_dim} classes (0-{G.c_dim - 1})")
    return idx


def display(images: np.ndarray, min_size: int = 256) -> list[np.ndarray]:
    """Images enlarged (nearest neighbour, whole factors) so that small networks' outputs are visible."""
    out = []
    for img in images:
        factor = max(1, min_size // max(img.shape[:2]))
        big = np.kron(img, np.ones((factor, factor, 1), dtype=img.dtype)) if factor > 1 else img
        out.append(big[..., 0] if big.shape[-1] == 1 else big)
    return out


def file_path(value: Any) -> str | None:
    """The local path of a gradio file value (a path string or an object with `.name` / `path`)."""
    if value is None:
        return None
    if isinstance(value, (str, os.PathLike)):
        return str(value)
    if isinstance(value, dict):
        return value.get("path") or value.get("name")
    return getattr(value, "name", None) or getattr(value, "path", None)


def layer_choices(G: Generator) -> list[tuple[str, int]]:
    """One (label, index) per w layer, the label naming the resolution the layer drives, e.g. `5 (16px)`."""
    from ..latents import layer_resolutions

    resolutions = layer_resolutions(G.num_ws, G.img_resolution, getattr(G, "version", 2))
    return [(f"{i} ({res}px)", i) for i, res in enumerate(resolutions)]


def check_count(n: int, what: str) -> None:
    if n > MAX_IMAGES:
        raise StyleGANError(f"{what}: {n} images asked for; at most {MAX_IMAGES} per request")


def seeds_text(seeds: Sequence[int]) -> str:
    return ",".join(str(s) for s in seeds)
