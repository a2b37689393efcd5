"""What every pipeline stage script shares: logging set-up and turning known failures into one clear line."""

from __future__ import annotations

import functools
import logging
import os
import shutil
import sys
from pathlib import Path

from sunspotter.acquire.lasp import ArchiveError
from sunspotter.checks.suite import ValidationFailed
from sunspotter.config import ConfigError, load_params
from sunspotter.io.pspt import PSPTFileError
from sunspotter.lifecycle.tracking import TrackingUnavailable

log = logging.getLogger(__name__)

#: Failures caused by the input, the params or the archive server, not by a bug: reported without a traceback.
USER_ERRORS = (ConfigError, PSPTFileError, ValidationFailed, FileNotFoundError, ArchiveError, TrackingUnavailable)


def stage_main(func):
    """Run ``func`` as a stage: log to stderr, and on a user error print its message and exit 1. params.yaml is
    checked first, so a wrong key or type stops any stage before it does any work."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        logging.basicConfig(level=os.environ.get("SUNSPOTTER_LOG", "INFO"), stream=sys.stderr,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        try:
            load_params()
            return func(*args, **kwargs)
        except USER_ERRORS as err:
            print(f"error: {err}", file=sys.stderr)
            sys.exit(1)

    return wrapper


def fresh_data_docs(suite: str) -> Path:
    """The suite's Data Docs folder, emptied so it shows this run only (DVC does the same; a direct run needs it)."""
    from sunspotter import paths

    folder = paths.data_docs(suite)
    shutil.rmtree(folder, ignore_errors=True)
    return folder


def conclude_validation(outcome, rules_checked: int, suite: str, subject: Path, quarantined: dict | None = None) -> None:
    """Write the suite's JSON summary (a DVC metric), log its counts to the stage's run, and stop if anything
    failed, unless the failures were ``quarantined`` (set aside, and listed in the summary)."""
    import mlflow

    from sunspotter import paths
    from sunspotter.checks.suite import write_summary

    write_summary(outcome, paths.validation_summary(suite), rules_checked,
                  {"quarantined": quarantined} if quarantined else None)
    mlflow.log_metrics({f"{suite}_rows_checked": outcome.rows, f"{suite}_failed_rules": len(outcome.failures)})
    if quarantined:
        log.warning("%s: quarantined %s", subject, quarantined)
    elif not outcome.success:
        raise ValidationFailed(f"{subject}: {outcome.message()}\n  report: {validation_page(suite)}")


def validation_page(suite: str) -> Path:
    """This validation's own page in the suite's Data Docs: it reads offline, where the index's rows are drawn
    by scripts from a CDN (the index when there is no such page)."""
    from sunspotter import paths

    pages = sorted((paths.data_docs(suite) / "validations").rglob("*.html"), key=lambda page: page.stat().st_mtime)
    return pages[-1] if pages else paths.data_docs(suite) / "index.html"
