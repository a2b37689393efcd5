"""The model card every registered version carries (its registry description, and an artifact of the run)."""

from __future__ import annotations


def _table(rows: dict, header: tuple[str, str]) -> list[str]:
    lines = [f"| {header[0]} | {header[1]} |", "|---|---|"]
    lines += [f"| `{key}` | {value:.4g} |" if isinstance(value, float) else f"| `{key}` | {value} |"
              for key, value in rows.items()]
    return lines


def model_card(name: str, kind: str, *, data_hash: str, git_commit: str, params: dict, metrics: dict,
               gates: dict, run_id: str) -> str:
    """Markdown: what the model is, the data and code it came from, its params, its test metrics, its gates."""
    from sunspotter.registry import gate_failures

    what = {"classifier": "says whether a 128 x 128 tile of a full-disk image holds a sunspot",
            "localizer": "takes a whole full-disk solar image and returns its sunspot mask (a U-Net run over "
                         "overlapping tiles)"}[kind]
    failures = gate_failures(metrics, gates)
    lines = [f"# {name}", "", f"The sunspot {kind}: {what}.", "",
             "## Lineage", f"- data: `data/tiles` DVC hash `{data_hash}`", f"- code: git commit `{git_commit}`",
             f"- training run: `{run_id}`", "", "## Params", *_table(params, ("param", "value")), "",
             "## Test metrics (held-out dates)", *_table(metrics, ("metric", "value")), "",
             "## Promotion gates", *_table(gates, ("gate", "bound")), "",
             "Passes every gate." if not failures else "Fails: " + "; ".join(failures) + "."]
    return "\n".join(lines) + "\n"
