"""The synthetic archive against the facts in PSPT.md, and proof that its hard cases are hard."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from scipy import ndimage

from sunspotter.acquire.synth import observing, photometry, regions
from sunspotter.acquire.synth.archive import Archive, SynthConfig, render_observation
from sunspotter.config import Synthetic
from sunspotter.evaluation.overlap import PixelOverlap
from sunspotter.io import pspt
from sunspotter.solar import classical
from sunspotter.solar.disk import SolarDisk

CLEAR = Synthetic(observation_time="1800", cycle_phase=1.0, dust_rate=0.0, cloud_rate=0.0, bad_seeing_rate=0.0)


def _archive(settings=CLEAR, size=1024, seed=3, days=6, filters=("R",)):
    return Archive.create(SynthConfig(seed, size, "2014-01-02", days, filters, settings))


def _without_darks(image, header):
    """Counts minus each quadrant's dark level (DARK01..DARK04)."""
    darks = np.array([header[f"DARK{quadrant:02d}"] for quadrant in range(1, 5)], np.float32)
    return observing.quadrant_darks(image.astype(np.float32), -darks)


def test_centre_to_limb_profile_is_neckel_and_labs():
    rendered = render_observation(_archive(dataclasses.replace(CLEAR, cycle_phase=0.0)), 0)
    image = _without_darks(rendered.images["R"], rendered.header)
    mu = SolarDisk.from_header(rendered.header).mu(image.shape)
    quiet = rendered.codes == pspt.QUIET_SUN
    centre = np.median(image[quiet & (mu > 0.98)])
    for low in np.arange(0.2, 1.0, 0.1):
        ring = quiet & (mu >= low) & (mu < low + 0.1)
        expected = float(photometry.limb_darkening(np.array(low + 0.05)))
        assert np.median(image[ring]) / centre == pytest.approx(expected, abs=0.015), f"mu {low:.1f}-{low + 0.1:.1f}"


def test_umbra_and_penumbra_contrasts_and_larger_spots_darker():
    flat = []
    for index in range(3):
        rendered = render_observation(_archive(size=2048), index)
        image, _ = classical.flatten(rendered.images["R"], SolarDisk.from_header(rendered.header))
        labels, count = ndimage.label(pspt.sunspot_mask(rendered.codes))
        for spot in range(1, count + 1):
            inside = labels == spot
            umbra, penumbra = inside & (rendered.codes == pspt.UMBRA), inside & (rendered.codes == pspt.PENUMBRA)
            if umbra.sum() >= 30 and penumbra.sum() >= 100:
                # The umbral core (its darkest tenth): the edge is mixed with penumbra by seeing.
                flat.append((inside.sum(), np.percentile(image[umbra], 10), np.median(image[penumbra])))
    areas, umbrae, penumbrae = np.array(flat).T
    print(f"\n{len(flat)} spots: umbral core {np.percentile(umbrae, [5, 50, 95]).round(3)}, "
          f"penumbra {np.percentile(penumbrae, [5, 50, 95]).round(3)} of the local quiet Sun")
    assert len(flat) >= 10
    assert np.all((umbrae > 0.18) & (umbrae < 0.5)), umbrae
    assert np.all((penumbrae > 0.72) & (penumbrae < 0.88)), penumbrae
    assert np.corrcoef(np.log(areas), umbrae)[0, 1] < -0.3, "larger spots have darker umbrae"


def test_group_areas_are_log_normal_and_latitudes_bounded():
    tracks = regions.population(seed=11, n_days=3000, cycle_phase=0.5)
    areas = np.array([t.peak_area_msh for t in tracks])
    logs = np.log(areas)
    print(f"\n{len(tracks)} groups: median {np.median(areas):.0f} MSH, sigma(ln) {logs.std():.2f}, "
          f"range {areas.min():.0f}-{areas.max():.0f} MSH")
    assert np.median(areas) == pytest.approx(regions.GROUP_AREA_MEDIAN_MSH, rel=0.15)
    assert 0.85 < logs.std() < 1.2
    assert areas.min() >= 5 and areas.max() <= 3000
    assert max(abs(t.lat) for t in tracks) <= regions.MAX_LATITUDE_DEG


@pytest.mark.parametrize("phase, low, high", [(0.0, 0.0, 1.5), (1.0, 7.0, 16.0)])
def test_groups_on_the_disk_follow_the_cycle(phase, low, high):
    tracks = regions.population(seed=5, n_days=400, cycle_phase=phase)
    counts = [sum(1 for region in regions.regions_on(tracks, day) if abs(region.lon) < 90) for day in range(400)]
    print(f"\ncycle phase {phase}: {np.mean(counts):.1f} groups on the disk, {np.mean(np.array(counts) == 0):.0%} days without")
    assert low <= np.mean(counts) <= high
    if phase == 0.0:
        assert np.mean(np.array(counts) == 0) > 0.3, "solar minimum has many spot-free days"


def test_groups_rotate_about_13_degrees_a_day():
    archive = _archive(size=1024)
    days = [render_observation(archive, index) for index in (0, 1)]

    def centroids(rendered):
        header = rendered.header
        cx, cy, radius = header["CENTER_X"], header["CENTER_Y"], header[pspt.RADIUS_KEY]
        labels, count = ndimage.label(ndimage.binary_dilation(pspt.sunspot_mask(rendered.codes), iterations=6))
        out = []
        for y, x in ndimage.center_of_mass(labels > 0, labels, range(1, count + 1)):
            lat = np.degrees(np.arcsin((y - cy) / radius))
            sin_lon = (x - cx) / (radius * np.cos(np.radians(lat)))
            if abs(sin_lon) < 0.7:  # away from the limb, where positions are sharp
                out.append((lat, np.degrees(np.arcsin(sin_lon))))
        return out

    shifts = []
    for lat, lon in centroids(days[0]):
        matches = [(lat1, lon1) for lat1, lon1 in centroids(days[1]) if abs(lat1 - lat) < 1.5 and 8 < lon1 - lon < 18]
        if matches:
            shifts.append(matches[0][1] - lon)
    print(f"\nday-to-day longitude shifts: {np.round(shifts, 1)}")
    assert len(shifts) >= 3
    assert np.median(shifts) == pytest.approx(13.2, abs=1.0)


def test_mask_is_quiet_sun_below_mu_015_though_spots_are_there():
    hidden_spot_pixels = 0
    for index in range(6):
        rendered = render_observation(_archive(size=1024), index)
        mu = SolarDisk.from_header(rendered.header).mu(rendered.codes.shape)
        near_limb = (mu > 0.02) & (mu < pspt.LIMB_MU - 0.005)
        assert np.all(rendered.codes[near_limb] == pspt.QUIET_SUN)
        flat, _ = classical.flatten(rendered.images["R"], SolarDisk.from_header(rendered.header))
        hidden_spot_pixels += int(np.count_nonzero(near_limb & (flat < 0.7)))
    assert hidden_spot_pixels > 0, "spots near the limb are in the image even where the mask says quiet Sun"


def test_ca_k_shows_plage_and_network_bright():
    rendered = render_observation(_archive(filters=("R", "K")), 0)
    flat, _ = classical.flatten(rendered.images["K"], SolarDisk.from_header(rendered.header))
    median = {code: np.median(flat[rendered.codes == code]) for code in (pspt.QUIET_SUN, pspt.NETWORK, pspt.PLAGE)}
    assert median[pspt.NETWORK] > 1.1 * median[pspt.QUIET_SUN]
    assert median[pspt.PLAGE] > 1.4 * median[pspt.QUIET_SUN]


def test_classical_detector_finds_spots_on_clean_frames_but_not_on_hard_ones():
    cases = {"clean": CLEAR, "dust": dataclasses.replace(CLEAR, dust_rate=1.0),
             "cloud": dataclasses.replace(CLEAR, cloud_rate=1.0),
             "bad seeing": dataclasses.replace(CLEAR, bad_seeing_rate=1.0)}
    dice = {}
    for name, settings in cases.items():
        archive = _archive(dataclasses.replace(settings, cycle_phase=0.8), size=1024)
        frames = [render_observation(archive, index) for index in range(4)]
        found = [classical.detect(f.images["R"], SolarDisk.from_header(f.header)) for f in frames]
        dice[name] = float(np.mean([PixelOverlap.of(pspt.sunspot_mask(f.codes), mask).dice()
                                    for f, mask in zip(frames, found)]))
    print("\nclassical detector, mean sunspot Dice: " + ", ".join(f"{k} {v:.3f}" for k, v in dice.items()))
    assert dice["clean"] >= 0.9
    for hard in ("dust", "cloud", "bad seeing"):
        assert dice[hard] <= dice["clean"] - 0.05, f"{hard} frames are not hard: {dice}"
