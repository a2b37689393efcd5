"""Run a list of expectations on a metadata table and turn failures into a message a person can act on.

great-expectations validates tables, so each suite first describes its files or tiles as one row
each (shape, dtype, code counts, ...), then checks that table. A failure names the rows (files or
tiles) that broke each rule.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sunspotter.io import atomic

log = logging.getLogger(__name__)
MAX_NAMED = 10
DOCS_SITE = "sunspotter"


def _docs_site(folder: Path) -> dict:
    """A Data Docs site written as static HTML into ``folder``."""
    return {"class_name": "SiteBuilder",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(folder.resolve())},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"}}


@dataclass(frozen=True)
class Rule:
    """One expectation and the plain-language rule it enforces."""

    rule: str
    expectation: object  # a great_expectations.expectations.Expectation


class ValidationFailed(RuntimeError):
    """Some rows broke some rules; the message lists them."""


@dataclass(frozen=True)
class Outcome:
    suite: str
    success: bool
    rows: int
    failures: list[dict]  # {"rule", "expectation", "unexpected": [ids]}

    def summary(self) -> dict:
        return {"suite": self.suite, "success": self.success, "rows_checked": self.rows,
                "rules_checked": None, "failed_rules": len(self.failures), "failures": self.failures}

    def message(self) -> str:
        lines = [f"validation suite '{self.suite}' failed {len(self.failures)} rule(s):"]
        for failure in self.failures:
            named = failure["unexpected"][:MAX_NAMED]
            more = len(failure["unexpected"]) - len(named)
            lines.append(f"  - {failure['rule']}: " + ", ".join(map(str, named)) + (f" (+{more} more)" if more > 0 else ""))
        return "\n".join(lines)


def _exception_text(info: dict) -> str:
    """The first exception message in a result's exception_info (flat, or keyed by metric)."""
    candidates = [info] + [v for v in info.values() if isinstance(v, dict)]
    for candidate in candidates:
        if candidate.get("raised_exception") or candidate.get("exception_message"):
            return str(candidate.get("exception_message", "")).splitlines()[0][:200]
    return ""


def validate(suite_name: str, table: pd.DataFrame, rules: list[Rule], id_column: str,
             docs_dir: Path | None = None) -> Outcome:
    """Check ``table`` against ``rules``; each failure lists the ``id_column`` values of the offending rows.

    With ``docs_dir``, the result is also rendered as great-expectations Data Docs (HTML) there; several suites
    can share one folder, its index.html lists them all.
    """
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    actions = []
    if docs_dir is not None:
        context.add_data_docs_site(site_name=DOCS_SITE, site_config=_docs_site(Path(docs_dir)))
        actions.append(gx.checkpoint.UpdateDataDocsAction(name="data_docs", site_names=[DOCS_SITE]))
    batch = (context.data_sources.add_pandas(suite_name).add_dataframe_asset(suite_name)
             .add_batch_definition_whole_dataframe(suite_name))
    suite = context.suites.add(gx.ExpectationSuite(name=suite_name))
    for rule in rules:
        rule.expectation.description = rule.rule  # Data Docs show the plain-language rule
        suite.add_expectation(rule.expectation)
    definition = context.validation_definitions.add(gx.ValidationDefinition(name=suite_name, data=batch, suite=suite))
    checkpoint = context.checkpoints.add(gx.Checkpoint(
        name=suite_name, validation_definitions=[definition], actions=actions,
        result_format={"result_format": "COMPLETE", "unexpected_index_column_names": [id_column]}))
    run = checkpoint.run(batch_parameters={"dataframe": table.reset_index(drop=True)})
    (result,) = run.run_results.values()
    by_id = {checked.expectation_config.id: checked for checked in result.results}
    failures = []
    for rule in rules:
        checked = by_id[rule.expectation.id]
        if checked.success:
            continue
        details = checked.result or {}
        offenders = [row.get(id_column) if isinstance(row, dict) else row
                     for row in details.get("unexpected_index_list") or []]
        if not offenders and "observed_value" in details:  # a rule on the table as a whole, e.g. a mean
            observed = details["observed_value"]
            offenders = [f"observed {observed:.4g}" if isinstance(observed, (int, float)) else f"observed {observed}"]
        if not offenders:
            offenders = [_exception_text(checked.exception_info) or "the table as a whole"]
        failures.append({"rule": rule.rule, "expectation": type(rule.expectation).__name__,
                         "unexpected": sorted({str(o) for o in offenders})})
    return Outcome(suite_name, not failures, len(table), failures)


def write_summary(outcome: Outcome, path: Path, rules_checked: int, extra: dict | None = None) -> None:
    summary = outcome.summary() | {"rules_checked": rules_checked} | (extra or {})
    atomic.write_json(path, summary)
