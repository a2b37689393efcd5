"""The pipeline's trained localizer as a ``FullDiskModel``: its Keras file with what it learned from, read from
the tile dataset it was trained on.

Kept apart from ``inference`` so that a saved or served model, which carries those settings with it, never
imports the dataset layer (and with it Dask) on its code path.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from sunspotter.fulldisk.inference import FullDiskModel
from sunspotter.solar.solar_image import apparent_radius_arcsec


def training_plate_scale(index) -> float:
    """Arcsec per pixel of the training images: the Sun's apparent radius on each date over its radius in pixels."""
    disks = index.loc[index["split"] == "train"].groupby("date")["disk_radius"].first()
    if disks.empty:
        raise ValueError("the tile index has no training tiles to take the plate scale from")
    return float(np.median([apparent_radius_arcsec(dt.datetime.fromisoformat(date)) / radius
                            for date, radius in disks.items()]))


def trained_full_disk_model(keras_path, threshold: float, tiles_dir, dust_map_path=None, overlap: int | None = None,
                            edge_grow: float | None = None, edge_trim: float | None = None) -> FullDiskModel:
    """The trained localizer with what it learned from: tile size, normalisation and plate scale of its tiles,
    the dust map of its archive's detector when there is one, the tiles' ``overlap`` (default a quarter
    tile) and the edge cuts chosen for it."""
    import keras

    from sunspotter.dataset import tiles
    from sunspotter.solar import dust_map

    meta = tiles.read_meta(tiles_dir)
    if len(meta.channels) != 1:
        raise ValueError(f"full-disk inference takes one image per observation; this localizer was trained on "
                         f"{meta.channels} (set tile.channels to one filter)")
    return FullDiskModel(keras.saving.load_model(keras_path, compile=False), threshold=threshold,
                         arcsec_per_px=training_plate_scale(tiles.read_index(tiles_dir)),
                         tile_size=int(meta.tile_size), normalisation=meta.normalisation,
                         overlap=int(meta.tile_size) // 4 if overlap is None else overlap,
                         dust_map=dust_map.read(dust_map_path) if dust_map_path else None,
                         edge_grow=edge_grow, edge_trim=edge_trim)
