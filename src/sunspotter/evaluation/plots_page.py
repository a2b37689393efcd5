"""The HTML template ``dvc plots show`` and ``dvc plots diff`` fill: Vega, Vega-Lite and Vega-Embed inlined, so
the data plots draw without network access (DVC's own page loads them from a CDN, and offline every data plot
is blank).

The scripts come from the ``vl-convert-python`` wheel (PyPI), which carries them; ``make setup`` writes the
template into the virtual environment and points DVC's ``plots.html_template`` setting at it
(``.dvc/config.local``), so nothing generated is committed.

    python -m sunspotter.evaluation.plots_page .venv/dvc_plots_template.html
"""

from __future__ import annotations

import sys
from pathlib import Path

from sunspotter.io import atomic

#: The Vega-Lite major version DVC's specs are written for (their ``$schema`` is Vega-Lite v5).
VEGA_LITE_VERSION = "v5.21"
#: DVC fills ``{plot_divs}``; its ``{scripts}`` (the CDN tags) is left out on purpose.
PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
{refresh_tag}
<title>DVC plots</title>
<script>
{bundle}
</script>
<style>
body {{ font-family: sans-serif; }}
table {{ border-spacing: 15px; }}
img {{ max-width: 100%; }}
</style>
</head>
<body>
{plot_divs}
</body>
</html>
"""


def template() -> str:
    """The page, with DVC's placeholders, and the three libraries inlined from ``vl_convert``."""
    import vl_convert

    bundle = vl_convert.javascript_bundle(vl_version=VEGA_LITE_VERSION)
    page = PAGE.replace("{{", "{").replace("}}", "}")  # the style's braces; DVC's placeholders stay
    # A "</script" inside the code would end the tag early; "<\/script" is the same string to JavaScript.
    return page.replace("{bundle}", bundle.replace("</script", "<\\/script"))


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m sunspotter.evaluation.plots_page TEMPLATE.html", file=sys.stderr)
        return 2
    atomic.write_bytes(Path(argv[0]), template().encode())
    print(f"{argv[0]}: DVC plots page template with Vega {VEGA_LITE_VERSION} inlined")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
