"""Dataset preparation, reading and checking: every mode, every transform, labels, bad files, NVIDIA layout."""

from __future__ import annotations

import io
import json
import os
import stat
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from stylegan.cli.main import cli
from stylegan.data import ImageDataset, check_dataset, fit_image, prepare_dataset, to_channels
from stylegan.errors import StyleGANError


def _write_odd_images(root: Path) -> None:
    """One image per awkward mode/format, plus a corrupt PNG and a text file."""
    rng = np.random.RandomState(0)
    rgb = rng.randint(0, 256, (24, 40, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(root / "rgb.png")
    Image.fromarray(rgb).save(root / "rgb.jpg", quality=90)
    Image.fromarray(rgb[:, :, 0]).save(root / "gray.png")
    Image.fromarray(rgb).convert("LA").save(root / "la.png")
    Image.fromarray(rgb).convert("P").save(root / "palette.gif")
    rgba = np.concatenate([rgb, np.full((24, 40, 1), 128, np.uint8)], axis=2)
    Image.fromarray(rgba, "RGBA").save(root / "rgba.png")
    Image.fromarray(rgb).convert("CMYK").save(root / "cmyk.jpg")
    Image.fromarray((rng.rand(30, 30) * 65535).astype(np.uint16)).save(root / "deep16.png")
    Image.fromarray(rng.rand(20, 20).astype(np.float32), "F").save(root / "float.tiff")
    Image.fromarray(rgb).save(root / "bmp.bmp")
    good = io.BytesIO()
    Image.fromarray(rgb).save(good, format="PNG")
    (root / "broken.png").write_bytes(good.getvalue()[:100])
    (root / "notes.txt").write_text("not an image")
    (root / ".DS_Store").write_bytes(b"\0\1\2")


def test_prepare_any_mode_to_nvidia_layout(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    _write_odd_images(src)
    report = prepare_dataset(src, tmp_path / "out.zip", resolution=16)
    assert report.num_images == 10
    skipped = dict(report.skipped)
    assert skipped["notes.txt"] == "not an image"
    assert skipped["broken.png"].startswith("corrupt")
    assert ".DS_Store" in skipped
    with zipfile.ZipFile(tmp_path / "out.zip") as zf:
        names = sorted(zf.namelist())
        assert names[0] == "00000/img00000000.png" and "dataset.json" in names
        assert all(i.compress_type == zipfile.ZIP_STORED for i in zf.infolist())
        assert json.loads(zf.read("dataset.json"))["labels"] is None
        img = Image.open(io.BytesIO(zf.read("00000/img00000009.png")))
        assert img.mode == "RGB" and img.size == (16, 16)
    ds = ImageDataset(tmp_path / "out.zip")
    assert len(ds) == 10 and ds.image_shape == (3, 16, 16) and not ds.has_labels
    image, label = ds[3]
    assert image.dtype == np.uint8 and image.shape == (3, 16, 16) and label.shape == (0,)


def test_prepare_grayscale_and_folder_dest(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(src / "a.png")
    report = prepare_dataset(src, tmp_path / "out", resolution=8, channels=1)
    assert report.num_images == 1
    assert (tmp_path / "out" / "00000" / "img00000000.png").is_file()
    ds = ImageDataset(tmp_path / "out")
    assert ds.image_shape == (1, 8, 8)
    # The atomic temp-then-rename write leaves normal permissions, not the temp files' private 0600 / 0700.
    mask = os.umask(0o022)
    os.umask(mask)
    assert stat.S_IMODE((tmp_path / "out").stat().st_mode) == 0o777 & ~mask
    prepare_dataset(src, tmp_path / "out.zip", resolution=8)
    assert stat.S_IMODE((tmp_path / "out.zip").stat().st_mode) == 0o666 & ~mask


@pytest.mark.parametrize("transform", ["center-crop", "center-crop-wide", "pad", "stretch"])
def test_transforms_give_square_images(transform: str) -> None:
    img = Image.new("RGB", (60, 20), (255, 255, 255))
    out = fit_image(img, 16, transform)  # type: ignore[arg-type]
    assert out.size == (16, 16)
    a = np.asarray(out)
    if transform in ("center-crop", "stretch"):
        assert a.min() == 255  # all image content
    else:
        assert a[0, 0].max() == 0 and a[8, 8].min() > 240  # black bars above, content in the middle


def test_to_channels_composites_alpha_over_background() -> None:
    rgba = Image.new("RGBA", (4, 4), (255, 0, 0, 0))  # fully transparent red
    assert np.asarray(to_channels(rgba, 3, (255, 255, 255))).min() == 255
    assert np.asarray(to_channels(rgba, 3)).max() == 0
    assert to_channels(Image.new("I;16", (4, 4)), 3).mode == "RGB"


def test_labels_from_folders(tmp_path: Path) -> None:
    src = tmp_path / "src"
    for cls, n in [("dog", 2), ("cat", 3)]:
        (src / cls).mkdir(parents=True)
        for i in range(n):
            Image.fromarray(np.full((8, 8, 3), 40 * i, np.uint8)).save(src / cls / f"{i}.png")
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(src / "stray.png")
    report = prepare_dataset(src, tmp_path / "d.zip", resolution=8, labels="from-folders")
    assert report.class_names == ["cat", "dog"] and report.label_counts == {0: 3, 1: 2}
    assert ("stray.png", "no label (not in a class folder)") in report.skipped
    assert "0: cat" in report.summary()
    ds = ImageDataset(tmp_path / "d.zip", use_labels=True)
    assert ds.label_dim == 2 and ds.class_names == ("cat", "dog")
    assert [int(ds.get_label(i).argmax()) for i in range(len(ds))] == [0, 0, 0, 1, 1]
    assert ds.get_label(0).dtype == np.float32 and ds.get_label(0).sum() == 1


def test_labels_from_csv_names_and_ints(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    for i in range(3):
        Image.fromarray(np.full((8, 8, 3), i, np.uint8)).save(src / f"{i}.png")
    (tmp_path / "named.csv").write_text("filename,label\n0.png,zebra\n1.png,ant\n")
    r = prepare_dataset(src, tmp_path / "a.zip", resolution=8, labels=str(tmp_path / "named.csv"))
    assert r.class_names == ["ant", "zebra"] and r.num_images == 2 and ("2.png", "no label in the CSV") in r.skipped
    (tmp_path / "ints.csv").write_text("0.png,3\n1.png,0\n2.png,1\n")
    r = prepare_dataset(src, tmp_path / "b.zip", resolution=8, labels=str(tmp_path / "ints.csv"))
    assert r.num_images == 3 and ImageDataset(tmp_path / "b.zip", use_labels=True).label_dim == 4


@pytest.mark.parametrize("kind", ["zip", "tar.gz"])
def test_archive_sources(tmp_path: Path, kind: str) -> None:
    buf = io.BytesIO()
    Image.fromarray(np.zeros((10, 12, 3), np.uint8)).save(buf, format="PNG")
    path = tmp_path / f"src.{kind}"
    if kind == "zip":
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("imgs/a.png", buf.getvalue())
            zf.writestr("imgs/b.txt", b"x")
    else:
        with tarfile.open(path, "w:gz") as tf:
            for name, data in [("./imgs/a.png", buf.getvalue()), ("./imgs/b.txt", b"x")]:
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tf.addfile(info, io.BytesIO(data))
    report = prepare_dataset(path, tmp_path / "out.zip", resolution=4)
    assert report.num_images == 1 and report.skipped == [("imgs/b.txt", "not an image")]


def test_reads_nvidia_layout_with_int_labels_and_xflip(tmp_path: Path) -> None:
    path = tmp_path / "nv.zip"
    images = [np.random.RandomState(i).randint(0, 255, (8, 8, 3), dtype=np.uint8) for i in range(3)]
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
        labels = []
        for i, a in enumerate(images):
            b = io.BytesIO()
            Image.fromarray(a).save(b, format="png", compress_level=0)
            zf.writestr(f"00000/img{i:08d}.png", b.getvalue())
            labels.append([f"00000/img{i:08d}.png", [2, 0, 1][i]])
        zf.writestr("dataset.json", json.dumps({"labels": labels}))
    ds = ImageDataset(path, use_labels=True, xflip=True)
    assert len(ds) == 6 and ds.label_dim == 3
    np.testing.assert_array_equal(ds[1][0], images[1].transpose(2, 0, 1))
    np.testing.assert_array_equal(ds[4][0], images[1].transpose(2, 0, 1)[:, :, ::-1])
    assert ds[0][1].tolist() == [0, 0, 1] and ds[3][1].tolist() == [0, 0, 1]


def test_cond_without_labels_is_a_clear_error(tmp_path: Path) -> None:
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / "a.png")
    with pytest.raises(StyleGANError, match="needs labels"):
        ImageDataset(tmp_path, use_labels=True)


def test_corrupt_and_odd_images_inside_a_dataset_never_crash(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    Image.fromarray(np.full((8, 8, 3), 7, np.uint8)).save(tmp_path / "a.png")
    (tmp_path / "b.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    Image.fromarray(np.full((12, 10), 9, np.uint8)).save(tmp_path / "c.png")  # wrong size and mode
    ds = ImageDataset(tmp_path)
    with caplog.at_level("WARNING"):
        items = [ds[i][0] for i in range(len(ds))]
    assert all(x.shape == (3, 8, 8) for x in items)
    assert items[1][0, 0, 0] == 9  # b.png replaced by its neighbour c.png, converted
    assert ds.bad_files == ["b.png", "c.png"]
    assert "b.png" in caplog.text


def test_check_reports_everything(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    _write_odd_images(src)
    Image.fromarray(np.asarray(Image.open(src / "rgb.png"))).save(src / "copy.bmp")  # same pixels, other format
    r = check_dataset(src)
    assert r.num_images == 11
    assert [n for n, _ in r.corrupt] == ["broken.png"]
    assert "notes.txt" in r.not_images
    assert ["bmp.bmp", "copy.bmp", "rgb.png"] in r.duplicates
    assert r.modes["RGB"] >= 3 and "CMYK" in r.modes
    text = r.summary()
    assert "broken.png" in text and "duplicates" in text and "problems" in text


def test_check_prepared_dataset_with_labels(tmp_path: Path) -> None:
    src = tmp_path / "src"
    for cls in ("a", "b"):
        (src / cls).mkdir(parents=True)
        Image.fromarray(np.full((8, 8, 3), ord(cls), np.uint8)).save(src / cls / "x.png")
    prepare_dataset(src, tmp_path / "d.zip", resolution=8, labels="from-folders")
    r = check_dataset(tmp_path / "d.zip")
    assert r.label_counts == {"0 (a)": 1, "1 (b)": 1} and not r.problems
    assert "ready to train: yes" in r.summary()


def test_cli_prepare_and_check(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    _write_odd_images(src)
    runner = CliRunner()
    res = runner.invoke(
        cli,
        [
            "dataset",
            "prepare",
            "--source",
            str(src),
            "--dest",
            str(tmp_path / "o.zip"),
            "--resolution",
            "8",
            "--transform",
            "pad",
            "--background",
            "white",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "wrote 10 images" in res.output and "broken.png" in res.output
    res = runner.invoke(cli, ["dataset", "check", str(tmp_path / "o.zip")])
    assert res.exit_code == 0 and "exact duplicates" in res.output  # bmp.bmp == rgb.png
    res = runner.invoke(cli, ["dataset", "check", str(src)])
    assert res.exit_code == 2 and "broken.png" in res.output


def test_cli_errors_are_one_line(tmp_path: Path) -> None:
    from stylegan.cli.common import run_cli

    with pytest.raises(SystemExit) as e:
        run_cli(
            cli,
            [
                "dataset",
                "prepare",
                "--source",
                str(tmp_path / "nope"),
                "--dest",
                str(tmp_path / "o.zip"),
                "--resolution",
                "8",
            ],
        )
    assert e.value.code == 1


def test_setting_errors_name_the_parameter_and_the_cli_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from stylegan.cli.common import run_cli
    from stylegan.errors import SettingError

    with pytest.raises(SettingError, match="^resize_filter must be one of") as err:
        prepare_dataset(tmp_path, tmp_path / "o.zip", resolution=8, resize_filter="sharp")
    assert err.value.settings == ("resize_filter",)
    with pytest.raises(SystemExit):
        run_cli(
            cli,
            ["dataset", "prepare", "--source", str(tmp_path), "--dest", str(tmp_path / "o.zip"), "--resolution", "30"],
        )
    assert capsys.readouterr().err == "error: --resolution must be a power of two >= 4, got 30\n"
