"""Stage register: register both trained models in the MLflow registry and point @challenger at them."""

import json

from sunspotter import paths, tracking
from sunspotter.config import MODEL_KINDS, load_params
from sunspotter.registry import register_challenger
from sunspotter.stage import stage_main, write_json


@stage_main
def main() -> None:
    params = load_params()
    names = {"classifier": params.register.classifier, "localizer": params.register.localizer}
    test_metrics = json.loads((paths.METRICS / "evaluate.json").read_text())
    versions = {}
    with tracking.stage_run("register"):
        for kind in MODEL_KINDS:
            record = json.loads(paths.model_record(kind).read_text())
            tags = {"git_commit": tracking.git_commit(), "tiles_dvc_hash": tracking.dvc_hash(str(paths.TILES))}
            tags |= {name: f"{value:.6g}" for name, value in test_metrics[kind].items()}
            version = register_challenger(names[kind], record["model_uri"], record["run_id"], tags)
            versions[kind] = {"name": names[kind], "version": version, "alias": "challenger"}
    write_json(paths.MODELS / "registry.json", versions)


if __name__ == "__main__":
    main()
