import matplotlib.image

from sunspotter.cli import main


def test_gallery_draws_observations_with_masks(tiny_archive, tmp_path):
    out = tmp_path / "gallery.png"
    assert main(["gallery", str(tiny_archive), "-o", str(out), "-n", "3"]) == 0
    picture = matplotlib.image.imread(out)
    # Three rows of four panels (image, Ca II K, mask, close-up): taller than wide, and not blank.
    assert picture.shape[0] > 0.6 * picture.shape[1]
    assert picture[..., :3].std() > 0.05


def test_gallery_of_an_empty_folder_is_a_clear_error(tmp_path, capsys):
    assert main(["gallery", str(tmp_path), "-o", str(tmp_path / "g.png")]) == 1
    assert "no R image with its mask" in capsys.readouterr().err
