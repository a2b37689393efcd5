"""One object per model kind: code asks the kind, it never tests or looks up the kind's name."""

import ast

from sunspotter.config import MODEL_KINDS, MONITORS
from sunspotter.models.kinds import CLASSIFIER, KINDS, LOCALIZER
from tests.conftest import REPO

#: Where a kind's name may be written out: the registry of kinds, and params.yaml's schema (its keys).
NAME_HOMES = {"src/sunspotter/models/kinds.py", "src/sunspotter/config.py"}


def test_the_kinds_are_the_ones_params_yaml_trains():
    assert list(KINDS) == list(MODEL_KINDS) == list(MONITORS)


def test_no_code_outside_the_registry_spells_a_kind_name():
    spelled = []
    for path in sorted([*(REPO / "src").rglob("*.py"), *(REPO / "pipelines").glob("*.py")]):
        relative = str(path.relative_to(REPO))
        if relative in NAME_HOMES:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and node.value in KINDS:
                spelled.append(f"{relative}:{node.lineno} {node.value!r}")
    assert not spelled, "use the ModelKind (models/kinds.py), not its name:\n" + "\n".join(spelled)


def test_each_kind_knows_its_target_unit_and_inference_form():
    assert (CLASSIFIER.target, CLASSIFIER.unit, LOCALIZER.target, LOCALIZER.unit) == ("label", "tiles", "mask", "pixels")
    network = LOCALIZER.build(16, [4, 8], 1)
    assert LOCALIZER.for_inference(network) is network
    assert CLASSIFIER.for_inference(CLASSIFIER.build(16, [4, 8], 1)).name != network.name
