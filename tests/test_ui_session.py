"""The web app's bookkeeping without a server: networks, cache, history, links, labels, binding rules."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

import stylegan
from stylegan.errors import StyleGANError
from stylegan.latents import layer_resolutions
from stylegan.testing import tiny_generator
from stylegan.ui.labels import missing_chinese
from stylegan.ui.server import check_bind, is_loopback, parse_auth
from stylegan.ui.session import History, ModelStore, ResultCache, query_recipe, read_png_recipe, recipe_query


def test_model_store_loads_once_and_drops_least_recently_used(tmp_path: Path):
    files = []
    for seed in range(3):
        path = tmp_path / f"net{seed}.safetensors"
        stylegan.save(path, G_ema=tiny_generator(seed=seed))
        files.append(str(path))
    store = ModelStore(files[0], max_models=2)
    a = store.get()
    assert store.get(files[0]) is a and store.get("") is a
    b = store.get(files[1])
    assert a.hash != b.hash and "parameters" in b.card
    store.get(files[0])  # a is now the most recently used
    store.get(files[2])
    assert store.loaded() == [files[0], files[2]]
    assert store.choices()[:3] == files and "emoji" in store.choices()


def test_model_store_refuses_a_bad_file_in_one_line(tmp_path: Path):
    bad = tmp_path / "evil.pkl"
    bad.write_bytes(b"\x80\x04cos\nsystem\n(S'touch pwned'\ntR.")
    with pytest.raises(StyleGANError) as e:
        ModelStore(str(bad)).get()
    assert "evil.pkl" in str(e.value) and "\n" not in str(e.value)
    assert not Path("pwned").exists()


def test_result_cache_hits_by_recipe_and_stays_within_its_budget():
    cache = ResultCache(max_bytes=3 * 1000)
    calls = []

    def make(i: int):
        calls.append(i)
        return np.zeros(1000, np.uint8)

    first = cache.get_or_make({"kind": "generate", "seeds": "1"}, lambda: make(1))
    assert cache.get_or_make({"seeds": "1", "kind": "generate"}, lambda: make(99)) is first  # key order ignored
    for i in range(2, 6):
        cache.get_or_make({"seeds": str(i)}, lambda i=i: make(i))
    assert calls == [1, 2, 3, 4, 5] and cache.nbytes <= 3000
    cache.get_or_make({"kind": "generate", "seeds": "1"}, lambda: make(1))  # evicted: made again
    assert calls[-1] == 1 and cache.hits == 1


def test_history_keeps_recipes_in_png_and_npz_and_exports_them(tmp_path: Path):
    history = History(tmp_path / "h", max_entries=2)
    img = np.full((8, 8, 3), 200, np.uint8)
    ws = torch.randn(2, 4, 8)
    e1 = history.add(img, {"kind": "generate", "seeds": "0-1", "psi": 0.5}, ws)
    assert read_png_recipe(e1.image)["seeds"] == "0-1" and read_png_recipe(e1.image)["id"] == e1.id
    assert torch.equal(history.latents(e1.id), ws)
    with np.load(e1.latents) as data:
        assert json.loads(str(data["recipe"]))["psi"] == 0.5
    e2 = history.add(img, {"kind": "mix"})
    e3 = history.add(img, {"kind": "fuse"}, ws[:1])
    assert [e.id for e in history.entries()] == [e3.id, e2.id]  # bounded: the oldest is dropped, files too
    assert not e1.image.exists() and not e1.latents.exists()
    with pytest.raises(StyleGANError, match="no history entry"):
        history.get(e1.id)
    with pytest.raises(StyleGANError, match="has no latents"):
        history.latents(e2.id)
    archive = history.export_zip(tmp_path / "all.zip")
    with zipfile.ZipFile(archive) as zf:
        assert sorted(zf.namelist()) == sorted([e2.image.name, e3.image.name, e3.latents.name, "recipes.json"])
        assert [r["kind"] for r in json.loads(zf.read("recipes.json"))] == ["mix", "fuse"]


def test_share_query_round_trip_and_unknown_keys():
    recipe = {"kind": "generate", "network": "emoji", "seeds": "0-3", "psi": 0.7, "cutoff": 4, "noise": "const"}
    query = recipe_query({**recipe, "network_hash": "ab" * 32, "edits": [1, 2]})
    assert "page=" not in query  # gradio reads `page` itself
    assert query_recipe(query) == recipe
    assert query_recipe("psi=oops&seeds=1&evil=1") == {"seeds": "1"}


def test_layer_resolutions_follow_each_version():
    G = tiny_generator()
    res = layer_resolutions(G.num_ws, G.img_resolution)
    assert len(res) == G.num_ws and res[0] == 4 and res[-1] == G.img_resolution
    assert layer_resolutions(18, 1024, version=1)[5:9] == [16, 32, 32, 64]
    assert layer_resolutions(18, 1024)[5:9] == [32, 32, 64, 64]


def test_every_label_has_chinese_words():
    from stylegan.ui.app import page_modules

    modules = page_modules()
    assert set(modules) >= {"generate", "history"}
    assert missing_chinese(m.LABELS for m in modules.values()) == []


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.2"])
def test_loopback_hosts_need_no_auth(host: str):
    assert is_loopback(host)
    check_bind(host, [])


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.4", "::", "example.com"])
def test_other_hosts_need_auth(host: str):
    assert not is_loopback(host)
    with pytest.raises(StyleGANError, match="--auth"):
        check_bind(host, [])
    check_bind(host, [("a", "b")])


def test_parse_auth(tmp_path: Path):
    f = tmp_path / "logins"
    f.write_text("# comment\nbob:s3:cret\n\n")
    assert parse_auth(["alice:pw"], str(f)) == [("alice", "pw"), ("bob", "s3:cret")]
    with pytest.raises(StyleGANError, match="user:password"):
        parse_auth([":pw"])
    with pytest.raises(StyleGANError, match="cannot read"):
        parse_auth([], str(tmp_path / "missing"))


def test_history_continues_an_earlier_run(tmp_path: Path):
    img = np.zeros((4, 4, 3), np.uint8)
    first = History(tmp_path)
    e1 = first.add(img, {"kind": "generate", "seeds": "1"}, torch.zeros(1, 2, 3))
    again = History(tmp_path)
    assert [e.id for e in again.entries()] == [e1.id] and again.latents(e1.id).shape == (1, 2, 3)
    e2 = again.add(img, {"kind": "mix"})
    assert e2.id != e1.id and e1.image.is_file()  # numbering continues: nothing is overwritten


def test_session_folder_must_be_new_empty_or_the_apps(tmp_path: Path):
    from stylegan.ui.server import check_workdir, parse_size

    check_workdir(tmp_path / "new")
    check_workdir(tmp_path / "new")  # the app's own folder again
    (tmp_path / "home" / "docs").mkdir(parents=True)
    with pytest.raises(StyleGANError, match="not empty"):
        check_workdir(tmp_path / "home")
    assert parse_size("512mb") == 512 * 2**20 and parse_size("100kb") == 102400 and parse_size("7") == 7
    with pytest.raises(StyleGANError, match="200mb"):
        parse_size("lots")


def test_requests_cannot_name_urls_or_other_files(tmp_path: Path):
    """The model picker (and every endpoint's `network`) loads only uploads, session files and local registry
    networks: no URL (the server must not connect anywhere), no other file of the machine."""
    from stylegan.ui.server import UIOptions, make_context

    ctx = make_context(UIOptions(workdir=str(tmp_path / "s")))
    outside = tmp_path / "outside.safetensors"
    stylegan.save(outside, G_ema=tiny_generator(seed=1))
    with pytest.raises(StyleGANError, match="not other files"):
        ctx.models.get(str(outside))
    with pytest.raises(StyleGANError, match="loads no URL"):
        ctx.models.get("http://127.0.0.1:9/x.pkl")
    with pytest.raises(StyleGANError, match="downloads nothing"):
        ctx.models.get("ffhq-256")
    inside = ctx.workdir / "net.safetensors"
    stylegan.save(inside, G_ema=tiny_generator(seed=1))
    assert ctx.models.get(str(inside)).G.img_resolution == 16
    assert ctx.models.get("emoji") is ctx.models.get()
