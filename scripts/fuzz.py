"""A seeded mutation fuzzer for the checkpoint readers and the dataset reader (no library needed).

Each case takes a valid tiny input, mutates it, and runs the reader on it with a time limit:

- `checkpoint`: tiny networks in every format we read (our safetensors, NVIDIA PyTorch and TF pickles, rosinality
  .pt in torch's zip and legacy layouts), mutated by byte flips, truncation, splicing two files, inserting pickle
  opcodes, rewriting the pickle inside a .pt zip, changing safetensors header/metadata JSON values, and writing
  NVIDIA pickles whose constructor arguments or training_set_kwargs hold hostile values (shared references, deep
  nesting, wrong types, absurd numbers). The reader is `stylegan.io.inspect` then `stylegan.io.load(which="all")`.
- `dataset`: tiny zip and folder datasets, mutated in their bytes, their `dataset.json` (labels of every wrong
  shape and type) and their images. The reader is `ImageDataset` (every item read, with and without labels) and
  `check_dataset`.

A failure is any exception other than `StyleGANError` (and its subclasses), a case running past `--timeout`
seconds, or a crash. Each case runs in a forked copy of this process (so that a crash or a hang is caught and the
next case starts clean); `--no-fork` runs them in this process with a SIGALRM time limit instead.

    python scripts/fuzz.py --target checkpoint --cases 300 --seed 0
    python scripts/fuzz.py --target all --seconds 3600 --seed 7      # longer, by hand

It prints "N cases, F failures" per target and, for each failure, its case seed and what went wrong; replay one
case with `--replay SEED --target T` (the mutated input is kept under `--keep DIR` when given).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import random
import select
import shutil
import signal
import sys
import tempfile
import time
import traceback
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from stylegan.errors import StyleGANError

# ---------------------------------------------------------------------------------------------------------
# Hostile values.

_PICKLE_SNIPPETS = [
    b"(",
    b"l",
    b"]",
    b"}",
    b")",
    b"a",
    b"e",
    b"u",
    b"s",
    b"t",
    b"0",
    b"2",
    b"1",
    b"N",
    b"\x88",
    b"\x89",
    b"R",
    b"b",
    b"\x81",
    b"\x85",
    b"\x86",
    b"\x87",
    b"\x94",
    b"h\x01",
    b"h\x00",
    b"q\x00",
    b"j\x00\x00\x00\x00",
    b"K\x05",
    b"K\xff",
    b"J\xff\xff\xff\x7f",
    b"J\x00\x00\x00\x80",
    b"\x8a\x08\xff\xff\xff\xff\xff\xff\xff\x7f",
    b"\x8a\x01\x00",
    b"G\x7f\xf8\x00\x00\x00\x00\x00\x00",
    b"X\x05\x00\x00\x00hello",
    b"X\xff\xff\xff\x7f",
    b"B\xff\xff\xff\x7f",
    b"C\x05abcde",
    b"\x8c\x08builtins\x8c\x04exec\x93",
    b"cbuiltins\neval\n",
    b"cos\nsystem\n",
    b"ccollections\nOrderedDict\n",
    b"cnumpy\ndtype\n",
    b"ctorch._utils\n_rebuild_tensor_v2\n",
    b"\x95\xff\xff\xff\xff\xff\xff\xff\x7f",
    b".",
]


def hostile_value(rng: random.Random, depth: int = 0) -> Any:
    """A value that a careless reader would mishandle: absurd numbers, wrong types, deep or shared structures."""
    kind = rng.randrange(16 if depth < 2 else 11)
    if kind == 0:
        return rng.choice([0, -1, 1, 3, 2**20, 2**30, 2**31 - 1, 2**63, 10**7, -(2**40)])
    if kind == 1:
        return rng.choice([0.5, -0.0, 1e308, float("nan"), float("inf"), -float("inf"), 16.0, 1e-300])
    if kind == 2:
        return rng.choice(["", "16", "lrelu", "skip", "x" * 10_000, "\udcff".encode("utf-8", "surrogatepass").hex()])
    if kind == 3:
        return rng.choice([True, False, None])
    if kind == 4:
        return 10 ** rng.choice([20, 200, 2000, 4000])
    if kind == 5:
        return np.float32(rng.choice([1.0, float("nan")])) if rng.random() < 0.5 else np.int64(rng.randrange(-5, 5000))
    if kind == 6:
        return np.zeros(rng.choice([(0,), (3,), (2, 2)]), dtype=rng.choice([np.float32, np.int64, np.bool_]))
    if kind == 7:
        return torch.zeros(rng.choice([(), (3,), (2, 2)]), dtype=rng.choice([torch.float32, torch.int64]))
    if kind == 8:
        return b"\x00" * rng.randrange(0, 100)
    if kind == 9:
        return (1, 2) if rng.random() < 0.5 else [1, 3, 3, 1]
    if kind == 10:
        return {"a": 1}
    if kind == 11:  # shared references: a DAG that expands to 2**n leaves
        x: Any = []
        for _ in range(rng.choice([20, 64, 200])):
            x = [x, x]
        return x
    if kind == 12:  # deep nesting
        y: Any = 0
        for _ in range(rng.choice([50, 200, 5000, 50_000])):
            y = [y]
        return y
    if kind == 13:  # a list that contains itself
        z: list[Any] = [1]
        z.append(z)
        return z
    if kind == 14:
        return [hostile_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {f"k{rng.randrange(100)}": hostile_value(rng, depth + 1) for _ in range(rng.randrange(4))}


def hostile_json(rng: random.Random) -> Any:
    """A JSON-representable hostile value (no shared references survive JSON; deep nesting does)."""
    kind = rng.randrange(9)
    if kind == 0:
        return rng.choice([0, -1, 2**20, 2**30, 2**40, 10**7, 10**30, 3])
    if kind == 1:
        return rng.choice([0.5, 16.0, 1e308, -1e-300])
    if kind == 2:
        return rng.choice(["", "16", "skip", "x" * 1000])
    if kind == 3:
        return rng.choice([True, False, None])
    if kind == 4:
        return [rng.randrange(-3, 5) for _ in range(rng.randrange(6))]
    if kind == 5:
        return {"a": [1, {"b": None}]}
    if kind == 6:
        v: Any = 1
        for _ in range(rng.choice([50, 150, 3000])):
            v = [v]
        return v
    if kind == 7:
        return [[1, 2]] * rng.randrange(1, 5)
    return rng.choice([float("nan"), float("inf")])


# ---------------------------------------------------------------------------------------------------------
# Byte-level mutations.


def flip_bytes(rng: random.Random, data: bytes) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.randrange(1, 9)):
        if buf:
            i = rng.randrange(len(buf))
            buf[i] = rng.randrange(256) if rng.random() < 0.5 else buf[i] ^ (1 << rng.randrange(8))
    return bytes(buf)


def truncate(rng: random.Random, data: bytes) -> bytes:
    return data[: rng.randrange(len(data))] if data else data


def splice(rng: random.Random, data: bytes, other: bytes) -> bytes:
    if not data or not other:
        return data + other
    i, j = sorted(rng.randrange(len(data)) for _ in range(2))
    k = rng.randrange(len(other))
    return data[:i] + other[k : k + rng.randrange(1, 4096)] + data[j:]


def insert_pickle_ops(rng: random.Random, data: bytes) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.randrange(1, 6)):
        i = rng.randrange(len(buf) + 1)
        buf[i:i] = rng.choice(_PICKLE_SNIPPETS)
    return bytes(buf)


def mutate_bytes(rng: random.Random, data: bytes, others: list[bytes], pickled: bool) -> bytes:
    choices: list[Callable[[], bytes]] = [
        lambda: flip_bytes(rng, data),
        lambda: truncate(rng, data),
        lambda: splice(rng, data, rng.choice(others)),
    ]
    if pickled:
        choices += [lambda: insert_pickle_ops(rng, data)] * 2
    return rng.choice(choices)()


# ---------------------------------------------------------------------------------------------------------
# Checkpoint target.


@dataclass
class Seed:
    name: str
    data: bytes
    kind: str  # safetensors, pickle, torch-zip, torch-legacy


def checkpoint_seeds(folder: Path) -> list[Seed]:
    """Valid tiny files in every format we read."""
    import stylegan.io as sio
    from stylegan.testing import (
        tiny_discriminator,
        tiny_generator,
        write_nvidia_pickle,
        write_rosinality_checkpoint,
        write_tf_pickle,
    )

    small = dict(img_resolution=8, channel_base=64, channel_max=8, z_dim=8, w_dim=8)
    G = tiny_generator(seed=1, **small)
    D = tiny_discriminator(seed=2, img_resolution=8, channel_base=64, channel_max=8)
    files = {
        "ours.safetensors": ("safetensors", lambda p: sio.save(p, G_ema=G, D=D, metadata={"note": [1, {"a": "b"}]})),
        "ours-g.safetensors": ("safetensors", lambda p: sio.save(p, G_ema=G)),
        "nvidia-ada.pkl": ("pickle", lambda p: write_nvidia_pickle(p, G_ema=G, D=D)),
        "nvidia-sg3.pkl": ("pickle", lambda p: write_nvidia_pickle(p, G_ema=G, layout="sg3", protocol=2)),
        "tf.pkl": ("pickle", lambda p: write_tf_pickle(p, Gs=G, D=D)),
        "rosinality.pt": ("torch-zip", lambda p: write_rosinality_checkpoint(p, G_ema=G, D=D)),
        "rosinality-legacy.pt": (
            "torch-legacy",
            lambda p: write_rosinality_checkpoint(p, G_ema=G, kind="training", zip_format=False),
        ),
    }
    seeds = []
    for name, (kind, write) in files.items():
        path = folder / name
        write(path)
        seeds.append(Seed(name, path.read_bytes(), kind))
    return seeds


def _mutate_safetensors_header(rng: random.Random, data: bytes) -> bytes:
    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8 : 8 + n])
    body = data[8 + n :]
    meta = header.setdefault("__metadata__", {})
    roll = rng.randrange(5)
    if roll <= 1 and "G_config" in meta:  # a wrong value in a network configuration
        key = "D_config" if roll == 1 and "D_config" in meta else "G_config"
        cfg = json.loads(meta[key])
        field = rng.choice([*cfg, "unknown_field"])
        if rng.random() < 0.15:
            cfg.pop(field, None)
        else:
            cfg[field] = hostile_json(rng)
        meta[key] = json.dumps(cfg)
    elif roll == 2:  # a tensor entry with another dtype, shape or offsets
        name = rng.choice([k for k in header if k != "__metadata__"])
        entry = header[name]
        what = rng.randrange(3)
        if what == 0:
            entry["dtype"] = rng.choice(["I64", "I32", "BOOL", "U8", "F16", "BF16", "F64", "XX"])
        elif what == 1:
            entry["shape"] = [rng.choice([0, 1, 2, 3, 2**31, 2**40]) for _ in range(rng.randrange(4))]
        else:
            entry["data_offsets"] = [rng.randrange(-5, len(body) + 5) for _ in range(2)]
    elif roll == 3:  # a metadata value
        key = rng.choice([*meta, "extra"])
        meta[key] = json.dumps(hostile_json(rng), allow_nan=True) if rng.random() < 0.8 else "{" * rng.randrange(9999)
    else:  # drop a tensor or the format tag
        keys = [k for k in header if k != "__metadata__"]
        if rng.random() < 0.8 and keys:
            del header[rng.choice(keys)]
        else:
            meta.pop("format", None)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    return len(text).to_bytes(8, "little") + text + body


def _mutate_zip_pickle(rng: random.Random, data: bytes) -> bytes:
    """Mutate one member (usually data.pkl) of a torch zip file, and write the archive back."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    names = src.namelist()
    pkl = [n for n in names if n.endswith("data.pkl")]
    victim = pkl[0] if pkl and rng.random() < 0.7 else rng.choice(names)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as dst:
        for name in names:
            payload = src.read(name)
            if name == victim:
                payload = (
                    insert_pickle_ops(rng, payload) if name.endswith(".pkl") and rng.random() < 0.5 else None
                ) or flip_bytes(rng, payload)
            dst.writestr(name, payload)
    return out.getvalue()


def _hostile_nvidia(rng: random.Random, folder: Path) -> bytes:
    from stylegan.testing import tiny_generator, write_nvidia_pickle

    G = tiny_generator(seed=1, img_resolution=8, channel_base=64, channel_max=8, z_dim=8, w_dim=8)
    fields = "z_dim w_dim c_dim img_resolution img_channels mapping_kwargs synthesis_kwargs channel_base conv_clamp"
    fields += " num_fp16_res architecture bogus"
    extra = {rng.choice(fields.split()): hostile_value(rng) for _ in range(rng.randrange(0, 3))}
    tsk = {"path": hostile_value(rng), "resolution": hostile_value(rng)} if rng.random() < 0.5 else None
    path = folder / "hostile.pkl"
    write_nvidia_pickle(
        path, G_ema=G, extra_init_kwargs=extra, training_set_kwargs=tsk, layout=rng.choice(["ada", "sg3"])
    )
    return path.read_bytes()


def checkpoint_case(rng: random.Random, seeds: list[Seed], folder: Path) -> Path:
    """Write one mutated checkpoint file and return its path."""
    seed = rng.choice(seeds)
    others = [s.data for s in seeds]
    roll = rng.random()
    if roll < 0.12:
        data = _hostile_nvidia(rng, folder)
    elif seed.kind == "safetensors" and roll < 0.6:
        data = _mutate_safetensors_header(rng, seed.data)
    elif seed.kind == "torch-zip" and roll < 0.6:
        data = _mutate_zip_pickle(rng, seed.data)
    else:
        data = mutate_bytes(rng, seed.data, others, pickled=seed.kind in ("pickle", "torch-legacy"))
    path = folder / f"case{Path(seed.name).suffix}"
    path.write_bytes(data)
    return path


def run_checkpoint(path: Path) -> None:
    import warnings

    import stylegan.io as sio

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        info = sio.inspect(path)
        json.dumps(info.metadata, default=str)
        sio.load(path, which="all")


# ---------------------------------------------------------------------------------------------------------
# Dataset target.


def dataset_seed(folder: Path) -> tuple[dict[str, bytes], dict[str, Any]]:
    """A tiny labelled dataset: 4 PNG images (8x8 RGB) and their dataset.json."""
    from PIL import Image

    files: dict[str, bytes] = {}
    for i in range(4):
        buf = io.BytesIO()
        Image.fromarray(np.full((8, 8, 3), 40 * i, np.uint8)).save(buf, format="PNG")
        files[f"img{i:02d}.png"] = buf.getvalue()
    meta = {"labels": [[name, i % 2] for i, name in enumerate(files)]}
    return files, meta


def _mutate_labels(rng: random.Random, meta: dict[str, Any], names: list[str]) -> Any:
    labels = [list(x) for x in meta["labels"]]
    roll = rng.randrange(8)
    if roll == 0:
        return {"labels": hostile_json(rng)}
    if roll == 1:
        return hostile_json(rng)
    if roll == 2:  # one entry broken
        labels[rng.randrange(len(labels))] = hostile_json(rng)
    elif roll == 3:  # one label value broken
        labels[rng.randrange(len(labels))][1] = hostile_json(rng)
    elif roll == 4:  # one name broken (missing file, unhashable, ...)
        labels[rng.randrange(len(labels))][0] = rng.choice([hostile_json(rng), "missing.png", names[0]])
    elif roll == 5:  # vectors, ragged or not
        labels = [[n, [rng.random() for _ in range(rng.choice([2, 2, 3]))]] for n in names]
    elif roll == 6:
        labels = labels[: rng.randrange(len(labels))]
    else:
        labels = [[n, rng.choice([0, 1, 2**40, -1, 1.5, "3", None])] for n in names]
    return {"labels": labels}


def dataset_case(rng: random.Random, folder: Path) -> Path:
    files, meta = dataset_seed(folder)
    names = list(files)
    meta_bytes = json.dumps(meta).encode()
    roll = rng.randrange(4)
    if roll == 0:
        meta_bytes = json.dumps(_mutate_labels(rng, meta, names), allow_nan=True).encode()
    elif roll == 1:
        meta_bytes = mutate_bytes(rng, meta_bytes, [meta_bytes], pickled=False)
    elif roll == 2:
        victim = rng.choice(names)
        files[victim] = mutate_bytes(rng, files[victim], list(files.values()), pickled=False)
    files["dataset.json"] = meta_bytes
    as_zip = rng.random() < 0.6
    if as_zip:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", rng.choice([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])) as zf:
            for name, data in files.items():
                zf.writestr(name, data)
        data = buf.getvalue()
        if roll == 3:
            data = mutate_bytes(rng, data, [data], pickled=False)
        path = folder / "case.zip"
        path.write_bytes(data)
        return path
    path = folder / "case"
    path.mkdir()
    for name, data in files.items():
        (path / name).write_bytes(data)
    return path


def run_dataset(path: Path) -> None:
    import logging
    import warnings

    logging.disable(logging.WARNING)  # the reader's "skipping a bad image" notes
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _run_dataset(path)


def _run_dataset(path: Path) -> None:
    from stylegan.data.check import check_dataset
    from stylegan.data.dataset import ImageDataset

    for use_labels in (False, True):
        try:
            ds = ImageDataset(path, use_labels=use_labels)
        except StyleGANError:
            continue
        for i in range(len(ds)):
            ds[i]
        _ = ds.info
        ds.close()
    check_dataset(path)


# ---------------------------------------------------------------------------------------------------------
# Running cases.


#: What `run_case` returns when the reader refused the input with a `StyleGANError` (a pass).
REFUSED = ""


class CaseTimeout(BaseException):
    """A case ran past its time limit (raised by SIGALRM in --no-fork mode)."""


def _describe(err: BaseException) -> str:
    tb = traceback.extract_tb(err.__traceback__)
    ours = [f for f in tb if f"{os.sep}stylegan{os.sep}" in f.filename]
    where = ""
    if ours:
        where = f" at {'/'.join(Path(ours[-1].filename).parts[-2:])}:{ours[-1].lineno}"
    if tb and (not ours or ours[-1] is not tb[-1]):
        where += f" (raised in {Path(tb[-1].filename).name}:{tb[-1].lineno})"
    return f"{type(err).__name__}: {' '.join(str(err).split())[:200]}{where}"


def run_case(target: str, case_seed: int, folder: Path, seeds: list[Seed] | None) -> str | None:
    """Build and run one case in this process: None when the reader accepted the input, `REFUSED` when it refused it
    with a `StyleGANError` (both pass), else what went wrong."""
    rng = random.Random(case_seed)
    case_dir = folder / f"c{case_seed}"
    case_dir.mkdir(parents=True, exist_ok=True)
    try:  # a mutation this script cannot write (e.g. nesting deeper than the pickler recurses) is no case
        path = checkpoint_case(rng, seeds or [], case_dir) if target == "checkpoint" else dataset_case(rng, case_dir)
    except Exception:
        return None
    try:
        run_checkpoint(path) if target == "checkpoint" else run_dataset(path)
    except StyleGANError:
        return REFUSED
    except CaseTimeout:
        return "hang: ran past the time limit"
    except BaseException as err:
        return _describe(err)
    return None


class Worker:
    """A forked copy of this process that runs cases one after another and reports each result on a pipe.

    The parent waits for each result at most `timeout` seconds: a worker that hangs (even inside C code, where
    SIGALRM cannot interrupt it) is killed, one that crashes is noticed, and a fresh worker takes the next case.
    """

    def __init__(self, target: str, folder: Path, seeds: list[Seed] | None) -> None:
        to_child_r, self.to_child = os.pipe()
        self.from_child, from_child_w = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:  # the worker
            os.close(self.to_child)
            os.close(self.from_child)
            code = 0
            try:
                with os.fdopen(to_child_r, "r") as inbox, os.fdopen(from_child_w, "w") as outbox:
                    for line in inbox:
                        result = run_case(target, int(line), folder, seeds)
                        outbox.write(json.dumps(result) + "\n")
                        outbox.flush()
            except BaseException:
                code = 3
            finally:
                os._exit(code)
        os.close(to_child_r)
        os.close(from_child_w)
        self.buffer = b""

    def run(self, case_seed: int, timeout: float) -> tuple[bool, str | None]:
        """(worker still usable, result) of one case."""
        os.write(self.to_child, f"{case_seed}\n".encode())
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                self.stop()
                return False, f"hang: ran past {timeout:g} s"
            ready, _, _ = select.select([self.from_child], [], [], left)
            if ready:
                chunk = os.read(self.from_child, 65536)
                if not chunk:
                    _, status = os.waitpid(self.pid, 0)
                    self.pid = 0
                    if os.WIFSIGNALED(status):
                        return False, f"crash: killed by signal {os.WTERMSIG(status)}"
                    return False, f"crash: the worker exited with status {os.WEXITSTATUS(status)}"
                self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        return True, json.loads(line)

    def stop(self) -> None:
        if self.pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
            self.pid = 0
        for fd in (self.to_child, self.from_child):
            with contextlib.suppress(OSError):
                os.close(fd)


@dataclass
class Report:
    target: str
    cases: int
    failures: list[tuple[int, str]]
    refused: int = 0  # cases the reader refused with one clear error (the rest it read)

    def summary(self) -> str:
        return (
            f"{self.target}: {self.cases} cases, {len(self.failures)} failures "
            f"({self.refused} refused with a StyleGANError, {self.cases - self.refused - len(self.failures)} read)"
        )


def fuzz(
    target: str,
    *,
    cases: int | None = None,
    seconds: float | None = None,
    seed: int = 0,
    timeout: float = 20.0,
    fork: bool = True,
    keep: Path | None = None,
    log: Callable[[str], None] = print,
) -> Report:
    """Run `cases` cases (or until `seconds` have passed) of one target; case i uses seed `seed * 1_000_003 + i`."""
    if cases is None and seconds is None:
        cases = 300
    folder = Path(tempfile.mkdtemp(prefix=f"fuzz-{target}-"))
    try:
        seeds = checkpoint_seeds(folder) if target == "checkpoint" else None
        start = time.monotonic()
        failures: list[tuple[int, str]] = []
        worker: Worker | None = None
        n = refused = 0
        while (cases is None or n < cases) and (seconds is None or time.monotonic() - start < seconds):
            case_seed = seed * 1_000_003 + n
            if fork:
                worker = worker or Worker(target, folder, seeds)
                usable, result = worker.run(case_seed, timeout)
                if not usable:
                    worker.stop()
                    worker = None
            else:
                signal.signal(signal.SIGALRM, _alarm)
                signal.setitimer(signal.ITIMER_REAL, timeout)
                try:
                    result = run_case(target, case_seed, folder, seeds)
                finally:
                    signal.setitimer(signal.ITIMER_REAL, 0)
            if result == REFUSED:
                refused += 1
            elif result:
                failures.append((case_seed, result))
                log(f"  FAIL {target} seed {case_seed}: {result}")
                if keep is not None:
                    keep.mkdir(parents=True, exist_ok=True)
                    shutil.copytree(folder / f"c{case_seed}", keep / f"{target}-{case_seed}", dirs_exist_ok=True)
            shutil.rmtree(folder / f"c{case_seed}", ignore_errors=True)
            n += 1
        if worker is not None:
            worker.stop()
        return Report(target, n, failures, refused)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _alarm(signum: int, frame: Any) -> None:
    raise CaseTimeout()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", choices=["checkpoint", "dataset", "all"], default="all")
    parser.add_argument("--cases", type=int, default=None, help="cases per target (default 300 unless --seconds)")
    parser.add_argument("--seconds", type=float, default=None, help="run each target this long")
    parser.add_argument("--seed", type=int, default=0, help="base seed: the same seed replays the same cases")
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds one case may take (default 20)")
    parser.add_argument("--no-fork", action="store_true", help="run cases in this process (SIGALRM time limit)")
    parser.add_argument("--replay", type=int, default=None, help="run only the case with this case seed")
    parser.add_argument("--keep", type=Path, default=None, help="copy failing inputs into this folder")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    targets = ["checkpoint", "dataset"] if args.target == "all" else [args.target]
    if args.replay is not None:
        folder = Path(tempfile.mkdtemp(prefix="fuzz-replay-"))
        for target in targets:
            seeds = checkpoint_seeds(folder) if target == "checkpoint" else None
            result = run_case(target, args.replay, folder, seeds)
            print(
                f"{target} seed {args.replay}: {result or ('refused (pass)' if result == REFUSED else 'read (pass)')}"
            )
            if args.keep is not None:
                shutil.copytree(folder / f"c{args.replay}", args.keep / f"{target}-{args.replay}", dirs_exist_ok=True)
        shutil.rmtree(folder, ignore_errors=True)
        return 0
    total = 0
    for target in targets:
        start = time.monotonic()
        report = fuzz(
            target,
            cases=args.cases,
            seconds=args.seconds,
            seed=args.seed,
            timeout=args.timeout,
            fork=not args.no_fork,
            keep=args.keep,
        )
        print(f"{report.summary()} ({time.monotonic() - start:.1f} s)")
        if report.failures:
            print("  failing case seeds: " + " ".join(str(s) for s, _ in report.failures))
            kinds: dict[str, list[int]] = {}
            for case_seed, what in report.failures:
                kinds.setdefault(what.split(": ", 1)[0] + " at " + what.rsplit(" at ", 1)[-1], []).append(case_seed)
            print("  distinct failures:")
            for kind, case_seeds in sorted(kinds.items(), key=lambda kv: -len(kv[1])):
                print(f"    {len(case_seeds):4d} x {kind} (e.g. seed {case_seeds[0]})")
        total += len(report.failures)
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main())
