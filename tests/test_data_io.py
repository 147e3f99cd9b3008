"""Readers and writers of pore images: every format, every convention, and bad input."""
import imageio.v3 as iio
import numpy as np
import pytest
import tifffile

from pvae_lib.binarize import otsu
from pvae_lib.data.io import natural_key, read_image, write_stack


@pytest.fixture
def stack():
    rng = np.random.default_rng(0)
    return rng.random((5, 12, 9)) < 0.4


@pytest.mark.parametrize("target", ["s.npy", "s.tif", "s.tiff", "slices"])
@pytest.mark.parametrize("convention", ["bright", "dark"])
def test_round_trip(tmp_path, stack, target, convention):
    path = write_stack(stack, tmp_path / target, pore=convention)
    binary = "nonzero" if convention == "bright" or target.endswith(".npy") else "zero"
    assert np.array_equal(read_image(path, pore=convention if not target.endswith(".npy") else "nonzero"), stack)
    assert np.array_equal(read_image(path, pore=binary), stack)


@pytest.mark.parametrize("suffix", [".png", ".bmp", ".tif"])
def test_slice_formats(tmp_path, stack, suffix):
    folder = write_stack(stack, tmp_path / "out", suffix=suffix)
    assert len(list(folder.iterdir())) == len(stack)
    assert np.array_equal(read_image(folder, pore="bright"), stack)


def test_authors_conventions(tmp_path):
    pores = np.zeros((4, 6, 6), dtype=bool)
    pores[:, 1:3, 1:3] = True
    # squares: pore = 0, solid = 1 (stored as 0/1)
    np.save(tmp_path / "sq.npy", (~pores).astype(np.uint8))
    assert np.array_equal(read_image(tmp_path / "sq.npy", pore="zero"), pores)
    # foams: solid = 1 -> pore is the dark phase
    tifffile.imwrite(tmp_path / "foam.tif", (~pores).astype(np.uint8), photometric="minisblack")
    assert np.array_equal(read_image(tmp_path / "foam.tif", pore="dark"), pores)
    assert np.array_equal(read_image(tmp_path / "foam.tif", pore="zero"), pores)


def test_gray_otsu_and_16bit(tmp_path):
    rng = np.random.default_rng(1)
    pores = rng.random((3, 20, 20)) < 0.3
    gray = np.where(pores, 40000, 9000) + rng.integers(-1000, 1000, pores.shape)
    gray = gray.astype(np.uint16)
    folder = tmp_path / "g"
    folder.mkdir()
    for i, page in enumerate(gray):
        iio.imwrite(folder / f"img{i}.png", page)
    assert np.array_equal(read_image(folder, pore="bright"), pores)
    assert np.array_equal(read_image(folder, pore="dark"), ~pores)
    with pytest.raises(ValueError, match="bright"):
        read_image(folder, pore="nonzero")  # gray data needs a threshold convention
    assert np.array_equal(otsu(gray.astype(float) / 65535, pore="bright"), pores)


def test_natural_sort(tmp_path):
    folder = tmp_path / "n"
    folder.mkdir()
    for i in (1, 2, 10, 11):  # s10 must come after s2
        page = np.zeros((4, 4), np.uint8)
        page[0, 0] = 255
        page[1, :] = 255 * (i % 2)
        page[3, 3] = 255 if i >= 10 else 0
        iio.imwrite(folder / f"s{i}.png", page)
    out = read_image(folder, pore="bright")
    assert [int(out[k, 3, 3]) for k in range(4)] == [0, 0, 1, 1]
    assert sorted(["s10", "s2", "s1"], key=natural_key) == ["s1", "s2", "s10"]


def test_grayscale_rgb_is_accepted_colour_rejected(tmp_path):
    folder = tmp_path / "rgb"
    folder.mkdir()
    page = np.zeros((6, 6), np.uint8)
    page[2:4] = 255
    iio.imwrite(folder / "a0.png", np.stack([page] * 3, -1))
    assert np.array_equal(read_image(folder, pore="bright")[0], page > 0)
    colour = np.stack([page, page // 2, page], -1)
    iio.imwrite(folder / "a1.png", colour)
    with pytest.raises(ValueError, match="a1.png"):
        read_image(folder, pore="bright")


def test_bad_inputs(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="empty"):
        read_image(empty)
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "readme.txt").write_text("hi")
    with pytest.raises(ValueError, match="readme.txt"):
        read_image(notes)
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    iio.imwrite(mixed / "s0.png", np.zeros((4, 4), np.uint8))
    iio.imwrite(mixed / "s1.png", np.zeros((5, 4), np.uint8))
    with pytest.raises(ValueError, match="s1.png"):
        read_image(mixed)
    broken = tmp_path / "broken"
    broken.mkdir()
    iio.imwrite(broken / "s0.png", np.zeros((4, 4), np.uint8))
    (broken / "s1.png").write_bytes(b"not an image")
    with pytest.raises(ValueError, match="s1.png"):
        read_image(broken)
    (tmp_path / "x.csv").write_text("1,2")
    with pytest.raises(ValueError, match="x.csv"):
        read_image(tmp_path / "x.csv")
    with pytest.raises(FileNotFoundError):
        read_image(tmp_path / "missing.npy")
    with pytest.raises(ValueError, match="pore must be"):
        read_image(tmp_path / "x.csv", pore="white")
    (tmp_path / "bad.npy").write_bytes(b"junk")
    with pytest.raises(ValueError, match="bad.npy"):
        read_image(tmp_path / "bad.npy")


def test_writer_refuses_to_overwrite_and_is_atomic(tmp_path, stack):
    path = write_stack(stack, tmp_path / "s.tif")
    with pytest.raises(FileExistsError):
        write_stack(stack, path)
    write_stack(~stack, path, overwrite=True)
    assert np.array_equal(read_image(path, pore="bright"), ~stack)
    folder = write_stack(stack, tmp_path / "f")
    write_stack(stack[:2], folder, overwrite=True)
    assert read_image(folder, pore="bright").shape == (2, 12, 9)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f", "s.tif"]  # no temporary left
    with pytest.raises(ValueError):
        write_stack(stack, tmp_path / "s.jpg")


def test_rgb_tiff_stack(tmp_path):
    pores = np.zeros((3, 5, 6), bool)
    pores[:, 2] = True
    gray = np.where(pores, 200, 10).astype(np.uint8)
    tifffile.imwrite(tmp_path / "rgb.tif", np.stack([gray] * 3, -1), photometric="rgb")
    assert np.array_equal(read_image(tmp_path / "rgb.tif", pore="bright"), pores)
    colour = np.stack([gray, gray, gray // 2], -1)
    tifffile.imwrite(tmp_path / "colour.tif", colour, photometric="rgb")
    with pytest.raises(ValueError, match="colour.tif"):
        read_image(tmp_path / "colour.tif", pore="bright")
    # a small gray stack whose last axis happens to be 3 is not mistaken for colour
    small = np.zeros((5, 4, 3), np.uint8)
    small[:, :, 1] = 1
    tifffile.imwrite(tmp_path / "small.tif", small, photometric="minisblack")
    assert read_image(tmp_path / "small.tif").shape == (5, 4, 3)
