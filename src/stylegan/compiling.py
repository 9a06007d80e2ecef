"""`torch.compile` of the networks' forward passes, guarded: where compiling fails (no C compiler, an operation the
compiler does not handle), a warning line says so once and the function runs uncompiled, with the same results.

Compiling happens at the first call of each new input signature (shape, dtype, whether gradients are recorded) and
takes from seconds (tiny networks) to minutes; on a GPU the compiled functions then run faster. The compiled
function shares the module's parameters, so training it trains the module (which is what is saved).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import torch


def warn_once(message: str) -> None:
    """The default way a fallback is told: a RuntimeWarning (shown once per place by Python's filters)."""
    warnings.warn(message, RuntimeWarning, stacklevel=3)


class CompiledFunction:
    """`function` through `torch.compile`, falling back to `function` itself when compiling fails.

    A failure is told once through `warn` ("warning: torch.compile failed for <name> (...): running uncompiled"),
    then every call runs uncompiled. An error that the uncompiled function raises as well (bad inputs) is raised
    as it is, without the warning.
    """

    def __init__(self, function: Callable[..., Any], name: str, *, warn: Callable[[str], None] = warn_once) -> None:
        self.function = function
        self.name = name
        self.warn = warn
        self.compiled: Callable[..., Any] | None
        try:
            self.compiled = torch.compile(function)
        except Exception as e:  # any failure of the compiler means: run uncompiled
            self.compiled = None
            self._fell_back(e)

    def _fell_back(self, error: BaseException) -> None:
        detail = " ".join(str(error).split())[:160]
        self.warn(
            f"warning: torch.compile failed for {self.name} ({type(error).__name__}: {detail}): running uncompiled"
        )

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.compiled is None:
            return self.function(*args, **kwargs)
        try:
            return self.compiled(*args, **kwargs)
        except Exception as e:  # a compiler failure, or an error of the function itself
            result = self.function(*args, **kwargs)  # raises the function's own errors as they are
            self.compiled = None
            self._fell_back(e)
            return result


def maybe_compile(
    function: Callable[..., Any], name: str, enabled: bool, *, warn: Callable[[str], None] = warn_once
) -> Callable[..., Any]:
    """`CompiledFunction(function, name, warn=warn)` when `enabled`, else `function` unchanged."""
    return CompiledFunction(function, name, warn=warn) if enabled else function


__all__ = ["CompiledFunction", "maybe_compile"]
