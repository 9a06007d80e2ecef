"""Freed activation memory reused during CPU inference (`stylegan.nn.memory`), measured by page faults in a fresh
process: every page of a fresh 64 MB mapping is faulted in when first written, a reused heap block is not."""

from __future__ import annotations

import json
import platform
import statistics
import subprocess
import sys
from typing import Any

import pytest

PRELUDE = """
import contextlib, json, resource, sys, torch
from stylegan.networks import Generator, GeneratorConfig, synthesis
from stylegan.nn.memory import reuse_freed_memory

def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
"""

BLOCKS = """
def touches(n=6):
    # page faults of allocating and writing 64 MB n times, freeing each (a block freed may be a few bytes short of
    # the next aligned request until it has merged with its neighbours: the first two may be fresh memory)
    f = faults()
    for _ in range(n):
        x = torch.empty(16 << 20)
        x.fill_(1.0)
        del x
    return faults() - f

out = {"outside": touches()}
with reuse_freed_memory():
    out["inside"] = touches()
    with reuse_freed_memory():  # nested
        out["nested"] = touches()
    out["kept"] = touches(1)  # still inside the outer block
out["released"] = touches(1)  # handed back on leaving: fresh pages again
print(json.dumps(out))
"""

FORWARD = """
G = Generator(GeneratorConfig(img_resolution=128, channel_base=256, channel_max=8, z_dim=8, w_dim=8)).eval()
z = torch.randn(64, 8)  # activations of 33-34 MB per layer at 128 px: above glibc's largest mmap threshold
with torch.no_grad(), (reuse_freed_memory() if sys.argv[1] == "loop" else contextlib.nullcontext()):
    if sys.argv[1] == "plain":
        synthesis.reuse_freed_memory = contextlib.nullcontext
    calls = []
    for _ in range(6):
        f = faults()
        G(z, None, noise_mode="const")
        calls.append(faults() - f)
print(json.dumps({"forward": calls[1:]}))
"""


def _run(script: str, *args: str) -> dict[str, Any]:
    run = subprocess.run([sys.executable, "-c", PRELUDE + script, *args], capture_output=True, text=True, check=True)
    return json.loads(run.stdout.strip().splitlines()[-1])


glibc_only = pytest.mark.skipif(
    platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc's malloc settings only"
)


@glibc_only
def test_large_blocks_reuse_freed_pages() -> None:
    out = _run(BLOCKS)
    if out["outside"] < 6 * 4096:  # transparent huge pages on every mapping: too few faults to tell apart
        pytest.skip(f"only {out['outside']} page faults for six fresh 64 MB blocks on this machine")
    assert out["inside"] <= out["outside"] / 3 + 16, out  # at most two of six blocks fresh
    assert out["nested"] < out["outside"] / 20, out
    assert out["kept"] < out["outside"] / 20, out
    assert out["released"] > 0.9 * out["outside"] / 6, out


@glibc_only
def test_generator_calls_in_a_loop_reuse_the_last_calls_pages() -> None:
    """A loop of generator calls inside one block (as video and metrics run them) reuses the pages of the calls
    before: after the first call a typical call faults almost no new pages (now and then one call finds no freed
    block big enough and grows the heap by a few activations); without the setting every call maps fresh memory."""
    plain, loop = _run(FORWARD, "plain")["forward"], _run(FORWARD, "loop")["forward"]
    if statistics.median(plain) < 4096:
        pytest.skip(f"only {statistics.median(plain)} page faults per call without the setting on this machine")
    assert statistics.median(loop) < statistics.median(plain) / 10, (plain, loop)
    assert sum(loop) < sum(plain) / 3, (plain, loop)
