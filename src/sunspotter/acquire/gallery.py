"""A picture of the raw archive for a person: several observations with their masks, and a close-up of a spot group."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sunspotter.io import atomic, pspt

#: Mask colours by code: off disk, (unused), quiet, network, active network, plage, faculae, umbra, penumbra.
CODE_COLOURS = ["#000000", "#000000", "#3b3b3b", "#5c6f8a", "#7fa3c9", "#e0c060", "#fff2a0", "#d62728", "#ff9896"]
CLOSE_UP_PX = 160


def _pick(raw_dir: Path, image_filter: str, n: int) -> list[pspt.Observation]:
    """The observation with most sunspot pixels first, then others spread over the archive."""
    masked = sorted({obs for _, obs in pspt.observation_files(raw_dir, "M")})
    observations = [obs for obs in masked if pspt.find_file(raw_dir, obs, image_filter)]
    if not observations:
        raise pspt.PSPTFileError(f"{raw_dir}: no {image_filter} image with its mask to show")
    spread = [observations[int(i)] for i in np.linspace(0, len(observations) - 1, min(n, len(observations)))]
    return spread


def _spot_window(codes: np.ndarray, half: int) -> tuple[slice, slice]:
    """A window around the largest patch of sunspot pixels (or the disk centre when there is none)."""
    from scipy import ndimage

    labels, count = ndimage.label(pspt.sunspot_mask(codes))
    if count:
        sizes = ndimage.sum(np.ones_like(labels), labels, index=range(1, count + 1))
        cy, cx = ndimage.center_of_mass(labels == 1 + int(np.argmax(sizes)))
    else:
        cy, cx = codes.shape[0] / 2, codes.shape[1] / 2
    r0 = int(np.clip(cy - half, 0, codes.shape[0] - 2 * half))
    c0 = int(np.clip(cx - half, 0, codes.shape[1] - 2 * half))
    return slice(r0, r0 + 2 * half), slice(c0, c0 + 2 * half)


def write_gallery(raw_dir: Path, out_png: Path, image_filter: str = "R", n: int = 4) -> Path:
    """Write a PNG: per observation its image, Ca II K (when present), mask, and a spot close-up."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap

    raw_dir, out_png = Path(raw_dir), Path(out_png)
    chosen = _pick(raw_dir, image_filter, n)
    fig, axes = plt.subplots(len(chosen), 4, figsize=(16, 4 * len(chosen)), squeeze=False)
    for row, obs in zip(axes, chosen):
        image, header = pspt.read_fits(pspt.find_file(raw_dir, obs, image_filter))
        codes, _ = pspt.read_fits(pspt.find_file(raw_dir, obs, "M"))
        k_path = pspt.find_file(raw_dir, obs, "K")
        notes = [k for k, flag in (("dust", header.get("SYNDUST")), ("bad seeing", header.get("SYNBADSE"))) if flag]
        if header.get("SYNCLOUD"):
            notes.append("cloud")
        row[0].imshow(image, cmap="gray", origin="lower")
        row[0].set_title(f"{obs.key} {image_filter}" + (f" ({', '.join(notes)})" if notes else ""))
        if k_path:
            row[1].imshow(pspt.read_fits(k_path)[0], cmap="magma", origin="lower")
            row[1].set_title("Ca II K")
        row[2].imshow(codes, cmap=ListedColormap(CODE_COLOURS), vmin=0, vmax=8, interpolation="nearest", origin="lower")
        row[2].set_title("mask (red: umbra, pink: penumbra)")
        window = _spot_window(codes, CLOSE_UP_PX * image.shape[0] // 2048 or 8)
        row[3].imshow(image[window], cmap="gray", origin="lower")
        row[3].contour(pspt.sunspot_mask(codes[window]), levels=[0.5], colors="red", linewidths=0.8)
        row[3].set_title(f"close-up, rows {window[0].start}-{window[0].stop}, cols {window[1].start}-{window[1].stop}")
        for ax in row:
            ax.set_xticks([])
            ax.set_yticks([])
    fig.tight_layout()
    with atomic.replacing(out_png) as temporary:
        fig.savefig(temporary, dpi=60)
    plt.close(fig)
    return out_png
