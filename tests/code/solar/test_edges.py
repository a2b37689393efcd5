"""Edge refinement of called spots by the image's own brightness, and the local background it compares with."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from sunspotter.fulldisk.inference import FullDiskModel
from sunspotter.solar import catalog, edges
from sunspotter.solar.background import local_background
from sunspotter.solar.solar_image import apparent_radius_arcsec, read_solar_image
from tests.code.fulldisk.test_full_disk import CENTRE, DATE, RADIUS, SPOT, contrast_model, pspt_file, spot_area_msh, sun, wcs_file
from tests.code.fulldisk.test_full_disk import SIZE as FRAME

SIZE = 200


def disk(centre, radius) -> np.ndarray:
    y, x = np.mgrid[:SIZE, :SIZE]
    return np.hypot(x - centre[0], y - centre[1]) <= radius


def test_edges_grow_onto_a_missed_rim_and_trim_what_is_not_dark():
    contrast = np.ones((SIZE, SIZE), np.float32)
    mu = np.ones_like(contrast)
    spot, pore, patch = (60, 60), (140, 140), (60, 150)
    contrast[disk(spot, 8)] = 0.86   # penumbra out to 8 px ...
    contrast[disk(spot, 3)] = 0.5    # ... round an umbra
    contrast[disk(pore, 4)] = 0.88   # a pore's blurred rim: darker than the grow cut, but nearer the surroundings ...
    contrast[disk(pore, 3)] = 0.55   # ... round its dark core
    contrast[disk(patch, 3)] = 0.98  # a patch no darker than the disk around it
    called = disk(spot, 7) | disk(pore, 4) | disk(patch, 3)  # penumbra rim missed, pore widened, patch wrong
    probability = np.where(called, 0.9, 0.0)
    refined = edges.refine(called.astype(np.uint8), probability, contrast, mu, grow=0.9, trim=0.93)
    assert refined.dtype == np.uint8
    np.testing.assert_array_equal(refined.astype(bool), disk(spot, 8) | disk(pore, 3))


def test_edges_move_by_one_pixel_at_most():
    """A spot called far too small grows by one pixel, not over the whole dark area."""
    contrast = np.ones((SIZE, SIZE), np.float32)
    contrast[disk((100, 100), 12)] = 0.8
    called = disk((100, 100), 4)
    refined = edges.refine(called, np.where(called, 0.9, 0.0), contrast, np.ones_like(contrast), 0.9, 0.93)
    np.testing.assert_array_equal(refined, ndimage.binary_dilation(called, structure=np.ones((3, 3))))


def test_edges_leave_the_limb_alone():
    contrast = np.ones((SIZE, SIZE), np.float32)
    contrast[80:120, 80:120] = 0.8  # a spot across the limb cut
    mu = np.where(np.arange(SIZE) < 100, 1.0, 0.1)[None, :].repeat(SIZE, axis=0)  # right half beyond the limb cut
    called = np.zeros((SIZE, SIZE), bool)
    called[90:110, 90:100] = True
    refined = edges.refine(called, np.where(called, 0.9, 0.0), contrast, mu, 0.9, 0.93)
    assert not refined[:, 100:].any()  # the masks never mark the limb
    assert refined[89:111, 89:100].all()  # elsewhere the dark rim joins


def test_background_is_the_mean_of_usable_pixels_around():
    y, x = np.mgrid[:SIZE, :SIZE].astype(np.float32)
    values = 1.0 + 0.001 * (x - y)  # a gentle gradient, as uneven cloud leaves
    usable = ~disk((100, 100), 15)
    values[~usable] = 0.3  # a spot the background must not see
    background = local_background(values, usable, sigma_px=20)
    exact = ndimage.gaussian_filter(np.where(usable, values, 0), 20) / ndimage.gaussian_filter(usable * 1.0, 20)
    inner = (slice(40, 160), slice(40, 160))
    assert np.abs(background - exact)[inner].max() < 2e-3
    assert background[100, 100] == pytest.approx(1.0, abs=0.01)
    # Asked only at some pixels, it gives the same there.
    at = disk((70, 120), 5)
    np.testing.assert_allclose(local_background(values, usable, 20, at=at), background[at], atol=1e-5)
    # Nothing usable within reach: the quiet Sun.
    assert local_background(values, np.zeros_like(usable), 20)[0, 0] == 1.0


def test_full_disk_model_refines_edges_without_harming_a_clean_spot(tmp_path):
    """On a sharp spot the network's edges are right: the refinement keeps them, and the area stays true."""
    image = read_solar_image(pspt_file(tmp_path / "20140105.1800.HW.R.P.rdc.fits.gz", sun()))
    plain, refined = models()
    mask, _ = refined.mask(image)
    np.testing.assert_array_equal(mask, plain.mask(image)[0])
    table = catalog.catalog(image, mask)
    assert len(table) == 1 and table.iloc[0].area_msh == pytest.approx(spot_area_msh(), rel=0.15)


def models() -> tuple[FullDiskModel, FullDiskModel]:
    scale = apparent_radius_arcsec(DATE) / RADIUS
    return (FullDiskModel(contrast_model(), threshold=0.5, arcsec_per_px=scale),
            FullDiskModel(contrast_model(), threshold=0.5, arcsec_per_px=scale, edge_grow=0.9, edge_trim=0.93))


def faint_rim(data: np.ndarray, spot, width: float) -> tuple[np.ndarray, np.ndarray]:
    """The image with a ring of ``width`` px round the spot at 0.89 of the quiet Sun (just brighter than
    the stand-in model's cut, so it misses it), and the ring."""
    y, x = np.mgrid[:data.shape[0], :data.shape[1]]
    d = np.hypot(x - spot[0], y - spot[1])
    ring = (d > spot[2]) & (d <= spot[2] + width)
    return np.where(ring, data * 0.89, data).astype(np.float32), ring


def test_full_disk_model_adds_a_missed_faint_rim(tmp_path):
    data, ring = faint_rim(sun(), SPOT, 1.0)
    image = read_solar_image(pspt_file(tmp_path / "20140105.1800.HW.R.P.rdc.fits.gz", data))
    plain, refined = (model.mask(image)[0].astype(bool) for model in models())
    assert not (plain & ring).any()
    assert (refined & ring).sum() >= 0.8 * ring.sum()
    assert not (refined & ~plain & ~ring).any()  # nothing but the rim joined


def test_full_disk_model_refines_an_image_at_another_plate_scale(tmp_path):
    """Half the model's resolution: the rim is found on the image's own pixels, one of them wide."""
    half = FRAME // 2
    centre = ((CENTRE[0] + 0.5) / 2 - 0.5, (CENTRE[1] + 0.5) / 2 - 0.5)
    spot = ((SPOT[0] + 0.5) / 2 - 0.5, (SPOT[1] + 0.5) / 2 - 0.5, SPOT[2] / 2)
    data, ring = faint_rim(sun(size=half, radius=RADIUS / 2, centre=centre, spot=spot), spot, 1.0)
    plain_model, refined_model = models()
    image = read_solar_image(wcs_file(tmp_path / "hmi_like.fits", data, 2 * plain_model.arcsec_per_px, centre))
    plain, refined = plain_model.mask(image)[0].astype(bool), refined_model.mask(image)[0].astype(bool)
    assert (refined & ring).sum() > (plain & ring).sum()
    assert not (refined & ~ndimage.binary_dilation(plain, structure=np.ones((3, 3)))).any()


def test_edges_refined_group_by_group_as_over_the_whole_frame(monkeypatch):
    """Each group of spots is refined in a window round it: the answer is the whole frame's, to the bit, for
    spots at the frame's edges, beside one another and across the groups' blocks."""
    rng = np.random.default_rng(3)
    size = 400
    y, x = np.mgrid[:size, :size]
    # Uneven on the scale of the surroundings, as under cloud, so that a window too small would change them.
    uneven = ndimage.gaussian_filter(rng.normal(0, 1, (size, size)), 15)
    contrast = (1.0 + 0.05 * uneven / uneven.std() + rng.normal(0, 0.01, (size, size))).astype(np.float32)
    called = np.zeros((size, size), bool)
    for cx, cy, r in [(3, 200, 6), (60, 62, 9), (75, 70, 4), (200, 396, 5), (310, 150, 12), (128, 128, 3)]:
        d = np.hypot(x - cx, y - cy)
        contrast[d <= r + 1] *= rng.uniform(0.84, 0.96, np.count_nonzero(d <= r + 1))  # rims near the cuts
        called |= d <= r - 1
    mu = np.clip(1.3 - np.hypot(x - 200, y - 200) / 200, 0, 1)  # the limb cuts across a corner
    probability = np.where(called, 0.9, 0.05)
    by_groups = edges.refine(called.astype(np.uint8), probability, contrast, mu, 0.9, 0.93)
    monkeypatch.setattr(edges, "GROUP_BLOCK_PX", 2 * size)  # one group: the window is the whole frame
    np.testing.assert_array_equal(by_groups, edges.refine(called.astype(np.uint8), probability, contrast, mu, 0.9, 0.93))
    assert (by_groups.astype(bool) & ~called).any()  # rims joined: the comparison is not of two empty masks
