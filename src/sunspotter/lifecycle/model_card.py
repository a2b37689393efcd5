"""The model card every registered version carries (its registry description, and an artifact of the run)."""

from __future__ import annotations

from sunspotter.models.kinds import ModelKind


def _table(rows: dict, header: tuple[str, str]) -> list[str]:
    lines = [f"| {header[0]} | {header[1]} |", "|---|---|"]
    lines += [f"| `{key}` | {value:.4g} |" if isinstance(value, float) else f"| `{key}` | {value} |"
              for key, value in rows.items()]
    return lines


#: Per-profile figures shown in a card: (metric, heading).
PROFILE_COLUMNS = (("test_region_recall_100_and_up", "recall, regions >= 100 MSH"),
                   ("test_false_regions_per_image_100_and_up", "false regions >= 100 MSH per image"),
                   ("test_region_recall", "recall, all listed regions"), ("test_region_precision", "precision"),
                   ("test_count_exact_fraction", "images counted exactly"),
                   ("test_area_relative_error_median", "median total-area error"), ("test_disk_dice", "pixel Dice"))


def _percent(value) -> str:
    """A share in percent; one decimal under 10 %, where the area-error gates (5 and 10 %) sit."""
    if value is None or value != value:
        return "-"
    return f"{100 * value:.1f} %" if abs(value) < 0.1 else f"{100 * value:.0f} %"


def strata_section(strata) -> list[str]:
    """Region recall, precision and area error by size, mu and observing condition (``region_figures``)."""
    names = {"size_msh": "size (MSH)", "mu": "mu (1 = disk centre)", "condition": "observing condition"}
    lines = ["## Where to trust it (test images, region by region)", "",
             "Recall: true regions found. Precision: predicted regions on a real spot. Area error: median "
             "|measured / true - 1| of the true regions (a missed one counts -100 %); bias: its signed median.", "",
             "| by | bin | true regions | recall | predicted | precision | area error | bias |",
             "|---|---|---|---|---|---|---|---|"]
    for row in strata.itertuples():
        bias = "-" if row.area_bias_median != row.area_bias_median else f"{100 * row.area_bias_median:+.0f} %"
        lines.append(f"| {names.get(row.dimension, row.dimension)} | {row.bin} | {row.true_regions} | "
                     f"{_percent(row.recall)} | {row.predicted_regions} | {_percent(row.precision)} | "
                     f"{_percent(row.area_error_median)} | {bias} |")
    return lines + [""]


def profiles_section(profiles: dict) -> list[str]:
    """The full-disk model's figures on each instrument profile (the test dates as other instruments see them)."""
    lines = ["## Other instruments (the test dates as each records them)", "",
             "| profile | " + " | ".join(heading for _, heading in PROFILE_COLUMNS) + " |",
             "|---|" + "---|" * len(PROFILE_COLUMNS)]
    for name, figures in profiles.items():
        cells = [f"{figures[m]:.2f}" if m.endswith(("per_image_100_and_up", "dice")) else _percent(figures.get(m))
                 for m, _ in PROFILE_COLUMNS]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines + [""]


def model_card(name: str, kind: ModelKind, *, data_hash: str, git_commit: str, params: dict, metrics: dict,
               gates: dict, run_id: str, strata=None, profiles: dict | None = None) -> str:
    """Markdown: what the model is, the data and code it came from, its params, its test metrics (with the
    full-disk model's ``strata``, a ``region_figures`` table, and its figures per instrument ``profiles``
    when given), its gates."""
    from sunspotter.lifecycle.registry import gate_failures

    failures = gate_failures(metrics, gates)
    lines = [f"# {name}", "", f"The sunspot {kind.name}: {kind.description}.", "",
             "## Lineage", f"- data: `data/tiles` DVC hash `{data_hash}`", f"- code: git commit `{git_commit}`",
             f"- training run: `{run_id}`", "", "## Params", *_table(params, ("param", "value")), "",
             *(strata_section(strata) if strata is not None else []),
             *(profiles_section(profiles) if profiles else []),
             "## Test metrics (held-out dates)", *_table(metrics, ("metric", "value")), "",
             "## Promotion gates", *_table(gates, ("gate", "bound")), "",
             "Passes every gate." if not failures else "Fails: " + "; ".join(failures) + "."]
    return "\n".join(lines) + "\n"
