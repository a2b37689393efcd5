"""Active regions that live for days: born, carried across the disk by differential rotation, grown, decayed.

Each region is drawn once for the whole archive, so consecutive days show the same groups a
little further west, as on the real Sun. Numbers are from PSPT.md: group areas log-normal,
latitudes within +-35 degrees drifting equatorward over the cycle, 13.2 degrees a day at the equator.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from sunspotter.acquire.synth import photometry
from sunspotter.acquire.synth.features import ActiveRegion, Outline, Spot

MAX_LATITUDE_DEG = 35.0
#: Whole-group sunspot area, millionths of a hemisphere: log-normal (median, sigma of ln), clipped.
GROUP_AREA_MEDIAN_MSH, GROUP_AREA_SIGMA, GROUP_AREA_RANGE_MSH = 80.0, 1.1, (5.0, 3000.0)
#: Below this area a spot is a pore: umbra only, no penumbra.
PORE_MAX_MSH = 10.0
#: Gnevyshev-Waldmeier rule: a group loses about this much area a day once past its peak.
DECAY_MSH_PER_DAY = 12.0
#: Groups on the visible disk at cycle minimum and maximum (yearly means are about 0-1 and 10-12).
GROUPS_ON_DISK = (0.3, 11.0)
#: Regions are born this many days before the first observation too, so day one is not empty.
WARM_UP_DAYS = 60


def synodic_rate_deg_per_day(lat_deg: float) -> float:
    """Differential rotation seen from Earth (Snodgrass sidereal rate less Earth's orbital 0.9856)."""
    s2 = np.sin(np.radians(lat_deg)) ** 2
    return float(14.713 - 2.396 * s2 - 1.787 * s2**2 - 0.9856)


@dataclass(frozen=True)
class SpotTrack:
    dlat: float          # offset from the region centre, degrees
    dlon: float
    area_share: float    # fraction of the group's area
    ratio: float         # penumbra/umbra radius (2.4-2.65)
    umbra_jitter: float  # per-spot scatter of the umbral intensity
    penumbra_intensity: float
    outline: Outline
    umbra_outline: Outline


@dataclass(frozen=True)
class RegionTrack:
    born: float          # day number (days since the archive's first date)
    lat: float
    lon_at_birth: float  # degrees from the central meridian on the day of birth
    peak_area_msh: float
    grow_days: float
    plage_radius_deg: float
    plage_outline: Outline
    spots: tuple[SpotTrack, ...]

    @property
    def life_days(self) -> float:
        return self.grow_days + self.peak_area_msh / DECAY_MSH_PER_DAY

    def area_on(self, day: float) -> float:
        """Group area on ``day``: linear growth to the peak, then Gnevyshev-Waldmeier decay."""
        age = day - self.born
        if age < 0 or age > self.life_days:
            return 0.0
        if age < self.grow_days:
            return self.peak_area_msh * age / self.grow_days
        return max(self.peak_area_msh - DECAY_MSH_PER_DAY * (age - self.grow_days), 0.0)

    def snapshot(self, day: float) -> ActiveRegion | None:
        """The region as seen on ``day`` (None before birth or after death)."""
        area = self.area_on(day)
        if area <= 0:
            return None
        shift = synodic_rate_deg_per_day(self.lat) * (day - self.born)
        lon = self.lon_at_birth + shift
        spots = []
        for track in self.spots:
            spot_area = area * track.area_share
            pore = spot_area < PORE_MAX_MSH
            spots.append(Spot(
                lat=self.lat + track.dlat, lon=lon + track.dlon, area_msh=spot_area,
                umbra_ratio=1.0 if pore else track.ratio,
                umbra_intensity=float(np.clip(photometry.umbra_contrast(spot_area) + track.umbra_jitter, 0.18, 0.55)),
                penumbra_intensity=track.penumbra_intensity, outline=track.outline, umbra_outline=track.umbra_outline,
            ))
        return ActiveRegion(self.lat, lon, self.plage_radius_deg * np.sqrt(area / self.peak_area_msh) + 1.5,
                            self.plage_outline, tuple(spots))


def _random_region(rng: np.random.Generator, born: float, cycle_phase: float) -> RegionTrack:
    # Spoerer's law: groups appear near 30 degrees at cycle start and near 10 degrees late in it.
    mean_lat = 28.0 - 18.0 * cycle_phase
    lat = float(rng.choice([-1, 1]) * np.clip(rng.normal(mean_lat, 6.0), 3.0, MAX_LATITUDE_DEG))
    area = float(np.clip(rng.lognormal(np.log(GROUP_AREA_MEDIAN_MSH), GROUP_AREA_SIGMA), *GROUP_AREA_RANGE_MSH))
    # Leader and follower carry most of the area; the rest are small spots and pores between them.
    n_spots = 1 + int(rng.poisson(1.5 + np.log10(area)))
    shares = rng.dirichlet([4.0, 2.5] + [0.6] * (n_spots - 2)) if n_spots > 1 else np.array([1.0])
    extent = 1.0 + 2.0 * np.log10(area)  # degrees between leader and follower
    spots = []
    for i, share in enumerate(shares):
        dlon = extent / 2 if i == 0 else -extent / 2 if i == 1 else float(rng.uniform(-extent / 2, extent / 2))
        spots.append(SpotTrack(
            dlat=float(rng.normal(0, 0.8)), dlon=dlon + float(rng.normal(0, 0.4)), area_share=float(share),
            ratio=float(rng.uniform(2.4, 2.65)), umbra_jitter=float(rng.normal(0, 0.02)),
            penumbra_intensity=photometry.penumbra_contrast(rng),
            outline=Outline.random(rng, 0.25), umbra_outline=Outline.random(rng, 0.3),
        ))
    return RegionTrack(born=born, lat=lat, lon_at_birth=float(rng.uniform(-180.0, 180.0)), peak_area_msh=area,
                       grow_days=float(rng.uniform(1.0, 4.0)), plage_radius_deg=float(rng.uniform(3.0, 6.0)) + extent / 2,
                       plage_outline=Outline.random(rng, 0.35), spots=tuple(spots))


#: Mean days a group of this population spends on the visible disk (measured: 400-day runs of
#: population(); short-lived small groups pull it well below half the mean life).
VISIBLE_DAYS_PER_GROUP = 4.2


def births_per_day(cycle_phase: float) -> float:
    """Birth rate giving the wanted mean number of groups on the visible disk."""
    low, high = GROUPS_ON_DISK
    return (low + (high - low) * cycle_phase) / VISIBLE_DAYS_PER_GROUP


def population(seed: int, n_days: int, cycle_phase: float) -> list[RegionTrack]:
    """All regions alive at some point in days [0, n_days). Each day's births come from that day's own
    random stream, so a longer archive keeps the regions of a shorter one."""
    regions = []
    for day in range(-WARM_UP_DAYS, n_days):
        rng = np.random.default_rng([seed, 1_000_003, day + WARM_UP_DAYS])
        for _ in range(rng.poisson(births_per_day(cycle_phase))):
            regions.append(_random_region(rng, day + float(rng.uniform(0, 1)), cycle_phase))
    return regions


def regions_on(tracks: list[RegionTrack], day: float) -> list[ActiveRegion]:
    return [snap for snap in (track.snapshot(day) for track in tracks) if snap is not None]


def day_number(first: dt.date, when: dt.datetime) -> float:
    return (when - dt.datetime.combine(first, dt.time())).total_seconds() / 86400.0
