"""Presets (StyleGAN2-ADA's train.py), config round trips, EMA, the reporter and the data stream."""

from __future__ import annotations

import dataclasses
import io
import json

import pytest
import torch

from stylegan.errors import StyleGANError
from stylegan.train.config import TRAIN_PRESETS, AugmentConfig, TrainConfig, build_config, describe_cost
from stylegan.train.data import StreamSampler
from stylegan.train.ema import ema_beta, update_ema
from stylegan.train.reporting import Reporter, format_duration

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.mark.parametrize("name", list(TRAIN_PRESETS))
def test_every_preset_resolves_and_round_trips(name: str) -> None:
    cfg = build_config(name, resolution=64, gpus=2)
    assert TrainConfig.from_dict(json.loads(cfg.to_json())) == cfg
    assert cfg.per_rank(2)[0] == cfg.batch // 2


def test_dry_run_cost_estimate() -> None:
    cost = describe_cost(build_config("cpu-tiny", resolution=16, kimg=2), 1)
    assert "500 steps of 4 images" in cost and "TFLOP per kimg" in cost and "per kimg" in cost


@pytest.mark.parametrize(
    "name, batch, gamma, cbase, lr, ema, mapping, mbstd",
    [
        ("stylegan2", 32, 10.0, 32768, 0.002, 10.0, 8, 4),
        ("paper256", 64, 1.0, 16384, 0.0025, 20.0, 8, 8),
        ("paper512", 64, 0.5, 32768, 0.0025, 20.0, 8, 8),
        ("paper1024", 32, 2.0, 32768, 0.002, 10.0, 8, 4),
        ("cifar", 64, 0.01, 32768, 0.0025, 500.0, 2, 32),
    ],
)
def test_nvidia_presets_match_reference(
    name: str, batch: int, gamma: float, cbase: int, lr: float, ema: float, mapping: int, mbstd: int
) -> None:
    cfg = build_config(name, resolution=256)
    got = (cfg.batch, cfg.loss.r1_gamma, cfg.G.channel_base, cfg.G_opt.lr, cfg.ema_kimg)
    assert got == (batch, gamma, cbase, lr, ema)
    assert (cfg.G.mapping_layers, cfg.D.mbstd_group_size, cfg.G_opt.betas) == (mapping, mbstd, (0.0, 0.99))
    assert (cfg.G_reg_interval, cfg.D_reg_interval, cfg.loss.pl_weight > 0) == (4, 16, name != "cifar")


def test_auto_formulas() -> None:
    for res, gpus in [(64, 1), (256, 8), (1024, 4)]:
        cfg = build_config("auto", resolution=res, gpus=gpus)
        batch = max(min(gpus * min(4096 // res, 32), 64), gpus)
        assert cfg.batch == batch
        assert cfg.D.mbstd_group_size == min(batch // gpus, 4)
        assert cfg.G.channel_base == (32768 if res >= 512 else 16384)
        assert cfg.G_opt.lr == (0.002 if res >= 1024 else 0.0025)
        assert cfg.loss.r1_gamma == pytest.approx(0.0002 * res**2 / batch)
        assert cfg.ema_kimg == pytest.approx(batch * 10 / 32) and cfg.ema_rampup == 0.05
        assert cfg.G.mapping_layers == 2


def test_overrides_and_errors() -> None:
    cfg = build_config(
        "paper256",
        resolution=64,
        batch=16,
        gamma=0.0,
        cbase=8192,
        cmax=256,
        map=4,
        glr=0.001,
        freezed=3,
        kimg=0.1,
        augment=AugmentConfig(kind="ada"),
    )
    assert (cfg.batch, cfg.loss.r1_gamma, cfg.G.channel_base, cfg.G.channel_max) == (16, 0.0, 8192, 256)
    assert (cfg.G.mapping_layers, cfg.G_opt.lr, cfg.D_opt.lr, cfg.D.freeze_layers) == (4, 0.001, 0.0025, 3)
    with pytest.raises(StyleGANError, match="unknown --cfg"):
        build_config("nope", resolution=64)
    with pytest.raises(StyleGANError, match="divisible by the number of processes"):
        build_config("paper256", resolution=64, batch=6).per_rank(4)
    with pytest.raises(StyleGANError, match="multiple of batch_gpu"):
        build_config("paper256", resolution=64, batch=8, batch_gpu=3)
    with pytest.raises(ValueError, match="augment pipe"):
        AugmentConfig(pipe="bgz")


def test_ema_beta_half_life_and_rampup() -> None:
    assert ema_beta(32, 10, None, 0) == pytest.approx(0.5 ** (32 / 10000))
    assert ema_beta(32, 10, 0.05, 1000) == pytest.approx(0.5 ** (32 / 50))  # ramp-up: n = 1000 * 0.05
    assert ema_beta(32, 10, 0.05, 0) == 0.0  # the very first step copies G


def test_update_ema_lerps_params_and_copies_buffers() -> None:
    a, b = torch.nn.BatchNorm1d(2), torch.nn.BatchNorm1d(2)
    with torch.no_grad():
        a.weight.fill_(0.0)
        b.weight.fill_(1.0)
        b.running_mean.fill_(5.0)
    update_ema(a, b, beta=0.75)
    assert torch.allclose(a.weight, torch.full([2], 0.25)) and torch.equal(a.running_mean, b.running_mean)


def test_reporter_means_reduce_and_files(tmp_path) -> None:  # type: ignore[no-untyped-def]
    stream = io.StringIO()
    r = Reporter(tmp_path, stream=stream, live=True, tensorboard=False)
    r.add("Loss/G", torch.tensor([1.0, 3.0]))
    r.add("Loss/G", float("nan"))  # ignored in the mean
    r.add("Loss/D", 4.0)
    assert r.means() == {"Loss/D": 4.0, "Loss/G": 2.0}
    r.reduce(lambda t: t * 2)  # as if two identical ranks
    assert r.means()["Loss/G"] == 2.0 and r.stds()["Loss/G"] == pytest.approx(1.0)
    r.progress("kimg 1.0", force=True)
    r.log("tick 0")
    r.write_stats({"Loss/G": 2.0}, step=4)
    r.close()
    assert "\rkimg 1.0" in stream.getvalue() and "tick 0\n" in stream.getvalue()
    assert (tmp_path / "log.txt").read_text() == "tick 0\n"
    assert json.loads((tmp_path / "stats.jsonl").read_text()) == {"Loss/G": 2.0}
    silent = Reporter(tmp_path / "other", enabled=False)
    silent.log("x")
    assert not (tmp_path / "other").exists()
    assert format_duration(3725) == "1h02m" and format_duration(65) == "1m05s"


def test_stream_sampler_covers_every_item_and_splits_ranks() -> None:
    s0, s1 = StreamSampler(10, seed=3, rank=0, world_size=2), StreamSampler(10, seed=3, rank=1, world_size=2)
    epoch = [s0.index_at(i) for i in range(5)] + [s1.index_at(i) for i in range(5)]
    assert sorted(epoch) == list(range(10))
    it = iter(StreamSampler(10, seed=3, rank=0, world_size=2, start=3))
    assert [next(it) for _ in range(4)] == [s0.index_at(i) for i in range(3, 7)]
    assert dataclasses.is_dataclass(build_config("cpu-tiny", resolution=16))


def test_reporter_writes_tensorboard_events_when_installed(tmp_path) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("tensorboard")
    r = Reporter(tmp_path, stream=io.StringIO())
    r.write_stats({"Loss/G": 1.5, "note": "x"}, step=8)  # type: ignore[dict-item]
    r.close()
    assert list(tmp_path.glob("events.out.tfevents.*"))
