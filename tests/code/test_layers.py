"""The layers contract: where every module of ``src/sunspotter`` sits, and the one rule that keeps the shape.

A module imports only from its own layer and the layers listed before it. The base (``config``, ``paths``,
``version``) is read by every layer; the API, ``cli`` and the ``serving`` alias sit above them all. MLflow is imported only in
``lifecycle``, and the layers that read pictures of the Sun import neither TensorFlow nor MLflow.
"""

from __future__ import annotations

import pytest

from tests.code.source_imports import PACKAGE, dotted_name, imports

#: Lowest first. A new module goes into one of these folders; a new folder is added here, in its place.
LAYERS = [
    ("base", {"sunspotter.config", "sunspotter.paths", "sunspotter.version"}),  # params, where things live, version
    ("io", {"sunspotter.io"}),  # bytes on disk: bounded FITS reading, atomic writes, PSPT names and codes
    ("solar", {"sunspotter.solar"}),  # the Sun in a picture: disk, flattening, edges, dust, catalog, classical
    ("acquire", {"sunspotter.acquire"}),  # how a raw archive comes to exist: the synthetic Sun, LASP, profiles
    ("dataset", {"sunspotter.dataset"}),  # split, tiles, shards, tf.data, augmentation; whole frames to score
    ("checks", {"sunspotter.checks"}),  # great-expectations suites for raw files and tiles
    ("models", {"sunspotter.models"}),  # Keras builders and losses
    ("fulldisk", {"sunspotter.fulldisk"}),  # the product: any solar image in, mask and catalog out
    ("evaluation", {"sunspotter.evaluation"}),  # overlap, tile and whole-image scoring, baselines, figures
    ("training", {"sunspotter.training"}),  # the fit loop; it scores val to choose the threshold
    ("lifecycle", {"sunspotter.lifecycle"}),  # MLflow: tracking, registry, cards, stage plumbing, pyfunc
    # The Python API (``sunspotter.detect``, also reached from the package itself), the command line, and the
    # old path of the pyfunc class that registered versions pickle.
    ("entry points", {"sunspotter", "sunspotter.api", "sunspotter.cli", "sunspotter.serving"}),
]
#: Third-party packages a layer must not import (MLflow lives in lifecycle alone).
NOT_IN = {"mlflow": {name for name, _ in LAYERS} - {"lifecycle", "entry points"},
          "tensorflow": {"base", "io", "solar", "acquire"}, "keras": {"base", "io", "solar", "acquire"}}


def layer_of(module: str) -> int | None:
    for rank, (_, members) in enumerate(LAYERS):
        if any(module == member or (member != "sunspotter" and module.startswith(member + ".")) for member in members):
            return rank
    return None


MODULES = sorted(PACKAGE.rglob("*.py"))


def test_every_module_has_a_layer():
    homeless = [str(path.relative_to(PACKAGE)) for path in MODULES if layer_of(dotted_name(path)) is None]
    assert not homeless, (f"modules in no layer: {', '.join(homeless)}: move each into a layer folder, or add its "
                          f"folder to LAYERS in {__file__}")


@pytest.mark.parametrize("path", MODULES, ids=lambda path: str(path.relative_to(PACKAGE)))
def test_imports_go_down_the_layers(path):
    own_layer = layer_of(dotted_name(path))
    own, others = imports(path)
    upward = [f"{dotted_name(found)} ({LAYERS[layer_of(dotted_name(found))][0]})" for found in own
              if layer_of(dotted_name(found)) > own_layer]
    assert not upward, (f"src/sunspotter/{path.relative_to(PACKAGE)} is in layer {LAYERS[own_layer][0]!r} but imports "
                        f"from a layer above it: {', '.join(upward)}")
    forbidden = [name for name in others if LAYERS[own_layer][0] in NOT_IN.get(name, ())]
    assert not forbidden, (f"src/sunspotter/{path.relative_to(PACKAGE)} imports {', '.join(forbidden)}, which layer "
                           f"{LAYERS[own_layer][0]!r} must not")
