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


class Compiler:
    """`torch.compile` for one or more functions sharing one fallback: the first failure (of any of them) is told
    once through `warn` ("warning: torch.compile failed for <name> (...): running uncompiled"), and from then on
    every function runs uncompiled. An error that the uncompiled function raises as well (bad inputs) is raised as it
    is, without the warning. With `enabled` false, `compile` returns the functions unchanged."""

    def __init__(self, *, enabled: bool = True, warn: Callable[[str], None] = warn_once) -> None:
        self.enabled = enabled
        self.warn = warn
        self.failed = False

    def compile(self, function: Callable[..., Any], name: str) -> Callable[..., Any]:
        """`function` through torch.compile (compiled at its first call), guarded as described above."""
        if not self.enabled or self.failed:
            return function
        try:
            compiled = torch.compile(function)
        except Exception as e:  # any failure of the compiler means: run uncompiled
            self._fail(name, e)
            return function

        def run(*args: Any, **kwargs: Any) -> Any:
            if self.failed:
                return function(*args, **kwargs)
            try:
                return compiled(*args, **kwargs)
            except Exception as e:  # a compiler failure, or an error of the function itself
                result = function(*args, **kwargs)  # raises the function's own errors as they are
                self._fail(name, e)
                return result

        return run

    def _fail(self, name: str, error: BaseException) -> None:
        if not self.failed:
            self.failed = True
            detail = " ".join(str(error).split())[:160]
            self.warn(
                f"warning: torch.compile failed for {name} ({type(error).__name__}: {detail}): running uncompiled"
            )


def maybe_compile(
    function: Callable[..., Any], name: str, enabled: bool, *, warn: Callable[[str], None] = warn_once
) -> Callable[..., Any]:
    """`function` through a `Compiler` of its own when `enabled`, else `function` unchanged."""
    return Compiler(enabled=enabled, warn=warn).compile(function, name)


__all__ = ["Compiler", "maybe_compile", "warn_once"]
