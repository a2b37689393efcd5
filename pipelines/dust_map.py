"""Stage dust_map: where dust sits on the detector, from the train and val frames (pixels dark in the same
place on many days). Writes the map, its figures (metrics/dust_map.json) and a picture of it."""

import io

from sunspotter import paths
from sunspotter.config import as_run_params, load_params
from sunspotter.dataset import tiles
from sunspotter.dataset.frames import split_pairs
from sunspotter.io import atomic
from sunspotter.io.atomic import write_json
from sunspotter.lifecycle import tracking
from sunspotter.lifecycle.stage import stage_main
from sunspotter.solar import dust_map
from sunspotter.solar.solar_image import read_solar_image

PICTURE = paths.REPORTS / "dust_map" / "dust_map.png"


@stage_main
def main() -> None:
    import mlflow
    from tqdm import tqdm

    settings = load_params().dust_map
    channel = tiles.read_meta(paths.TILES).channels[0]
    # Test frames stay out: the figures on them must not lean on anything they showed.
    frames = sorted(pair.images[0] for split in ("train", "val")
                    for pair in split_pairs(paths.RAW, paths.TILES, split, channel=channel).values())
    with tracking.stage_run("dust_map"):
        images = (read_solar_image(path) for path in tqdm(frames, desc="dust map", unit="frame"))
        dust = dust_map.build(images, settings.dark_contrast, settings.min_frames, settings.min_fraction)
        dust_map.write(paths.DUST_MAP, dust)
        figures = {"frames": dust.frames, "specks": dust_map.count_patches(dust.dusty),
                   "dusty_pixels": int(dust.dusty.sum())}
        mlflow.log_params(as_run_params("dust_map", settings))
        mlflow.log_metrics(figures)
        mlflow.log_artifact(str(_picture(dust)), "figures")
    write_json(paths.METRICS / "dust_map.json", figures)


def _picture(dust: dust_map.DustMap):
    """The map over the detector, specks drawn larger than life so that a 3-pixel one still shows."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from scipy import ndimage

    shown = ndimage.binary_dilation(dust.dusty, iterations=6)
    figure, axes = plt.subplots(figsize=(6, 6), dpi=100)
    axes.imshow(shown, cmap="gray_r", origin="lower")
    axes.set(title=f"Dust on the detector: {dust_map.count_patches(dust.dusty)} specks from {dust.frames} frames "
                   "(drawn 6 px wider)", xlabel="column (px)", ylabel="row (px)")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", bbox_inches="tight")
    plt.close(figure)
    atomic.write_bytes(PICTURE, buffer.getvalue())
    return PICTURE


if __name__ == "__main__":
    main()
