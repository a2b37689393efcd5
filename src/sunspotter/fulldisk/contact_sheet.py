"""A batch's ``index.html``: every overlay, the summary table and plot, and the files refused, on one page.

Static HTML with relative links and no scripts, styles or fonts from elsewhere: it opens offline, from the
output folder or a copy of it.
"""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd

from sunspotter.io import atomic

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>
body {{ font-family: sans-serif; margin: 1.5em; }}
table {{ border-collapse: collapse; font-size: 0.9em; }}
th, td {{ border: 1px solid #ccc; padding: 0.2em 0.5em; text-align: right; }}
th:first-child, td:first-child {{ text-align: left; }}
.sheet {{ display: flex; flex-wrap: wrap; gap: 1em; }}
figure {{ margin: 0; width: 300px; }}
figure img {{ width: 300px; height: auto; }}
figcaption {{ font-size: 0.85em; overflow-wrap: anywhere; }}
</style>
</head>
<body>
<h1>{title}</h1>
<p>{intro}</p>
{plot}
{table}
<h2>Overlays</h2>
<div class="sheet">
{figures}
</div>
{errors}
</body>
</html>
"""


def _figure(overlay: str, caption: str) -> str:
    link = html.escape(overlay, quote=True)
    return (f'<figure><a href="{link}"><img src="{link}" alt="{html.escape(caption, quote=True)}" loading="lazy">'
            f"</a><figcaption>{html.escape(caption)}</figcaption></figure>")


def write_contact_sheet(out_dir: Path, summary: pd.DataFrame, overlays: dict[str, str], errors: dict[str, str],
                        model_name: str) -> Path:
    """Write ``out_dir/index.html``.

    Parameters
    ----------
    out_dir : pathlib.Path
        The batch's output folder; ``summary.png`` there is shown when it exists.
    summary : pandas.DataFrame
        One row per image done, with an ``image`` column.
    overlays : dict of str to str
        For each image in ``summary``, its overlay's path relative to ``out_dir``.
    errors : dict of str to str
        For each file refused, the reason.
    model_name : str
        Which model made the masks.
    """
    title = f"sunspotter predict: {len(summary)} images"
    intro = f"Model: {html.escape(model_name)}. Click an overlay for the full size."
    plot = '<img src="summary.png" alt="total sunspot area and region count by date">' \
        if (out_dir / "summary.png").exists() else ""
    table = summary.to_html(index=False, float_format=lambda value: f"{value:.4g}", border=0) if len(summary) else ""
    figures = "\n".join(_figure(overlays[image], f"{image}: {int(regions)} regions, {area:.0f} MSH")
                        for image, regions, area in zip(summary.get("image", []), summary.get("regions", []),
                                                         summary.get("total_area_msh", [])))
    refused = "".join(f"<li>{html.escape(message)}</li>" for message in errors.values())
    path = out_dir / "index.html"
    atomic.write_bytes(path, PAGE.format(title=title, intro=intro, plot=plot, table=table, figures=figures,
                                         errors=f"<h2>Files refused</h2><ul>{refused}</ul>" if refused else "")
                       .encode())
    return path
