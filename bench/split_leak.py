"""Does the test split leak? Sunspot groups of the synthetic archive seen on both a test and a train date.

Reads the split the tile stage made (data/tiles/meta.json, `dvc repro` first) and the synthetic archive's
own groups (regenerated from params: the same seed gives the same Sun), and counts the groups visible
(on the near side, spots present) at a test date's observation time that are also visible on a train date;
beside it, the same count had train dates lain right beside the test blocks (no gaps), as the old
interleaved split had them.

    .venv/bin/python bench/split_leak.py
"""

from __future__ import annotations

import datetime as dt

from sunspotter import paths
from sunspotter.acquire.synth import regions
from sunspotter.config import load_params
from sunspotter.dataset import tiles

#: Degrees from the central meridian within which a group is taken as seen (the limb foreshortens the rest away).
VISIBLE_LON_DEG = 85.0


def main() -> None:
    params = load_params()
    meta = tiles.read_meta(paths.TILES)
    first = dt.date.fromisoformat(params.acquire.start_date)
    hhmm = params.acquire.synthetic.observation_time
    time_of_day = (int(hhmm[:2]) * 60 + int(hhmm[2:])) / 1440

    def day(date: str) -> float:
        return (dt.date(int(date[:4]), int(date[4:6]), int(date[6:])) - first).days + time_of_day

    tracks = regions.population(params.base.seed, params.acquire.n_days, params.acquire.synthetic.cycle_phase)

    def seen(days) -> set[int]:
        return {i for i, track in enumerate(tracks) for d in days
                if (snap := track.snapshot(d)) is not None and abs(snap.lon) < VISIBLE_LON_DEG}

    test_days = [day(date) for date in meta.splits["test"]]
    tested = seen(test_days)
    trained = seen(day(date) for date in meta.splits["train"])
    beside = seen(sorted({d + k for d in test_days for k in (-1, 1)} - set(test_days)))
    print(f"{len(test_days)} test dates, {len(meta.splits['train'])} train dates, "
          f"{len(meta.gap_dates)} left out in the gaps")
    print(f"groups seen on a test date: {len(tested)}; also on a train date: {len(tested & trained)} "
          f"({len(tested & trained) / max(len(tested), 1):.0%})")
    print(f"had the train dates lain right beside the test blocks: {len(tested & beside)} "
          f"({len(tested & beside) / max(len(tested), 1):.0%})")


if __name__ == "__main__":
    main()
