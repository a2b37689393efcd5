"""The Keras builders' shapes, and the classifier as it is saved: averaged over a tile's flips and quarter turns."""

import subprocess
import sys

import keras
import numpy as np

from sunspotter.models.classifier import build_classifier
from sunspotter.models.kinds import CLASSIFIER, LOCALIZER

TILE = 32


def dihedral_views(tiles: np.ndarray) -> list[np.ndarray]:
    """A batch's eight flips and quarter turns, by numpy."""
    return [np.ascontiguousarray(np.rot90(view, turns, axes=(1, 2)))
            for view in (tiles, tiles[:, :, ::-1]) for turns in range(4)]


def network_and_tiles():
    keras.utils.set_random_seed(1)
    network = build_classifier(TILE, [4, 8, 8])
    tiles = np.random.default_rng(0).normal(1.0, 0.1, (3, TILE, TILE, 1)).astype(np.float32)
    tiles[:, 3:9, 20:24] = 0.6  # a dark patch off every axis of symmetry: each view differs
    return network, tiles


def test_saved_classifier_averages_the_network_over_the_eight_views():
    network, tiles = network_and_tiles()
    averaged = CLASSIFIER.for_inference(network)
    views = dihedral_views(tiles)
    assert len({view.tobytes() for view in views}) == 8
    per_view = np.stack([network.predict_on_batch(view) for view in views])
    np.testing.assert_allclose(averaged.predict_on_batch(tiles), per_view.mean(axis=0), rtol=1e-5, atol=1e-6)
    # The average answers alike whichever way a tile is turned; the bare network does not.
    answers = np.stack([averaged.predict_on_batch(view) for view in views])
    np.testing.assert_allclose(answers, np.broadcast_to(answers[0], answers.shape), rtol=1e-5, atol=1e-6)
    assert np.ptp(per_view, axis=0).max() > 1e-4


def test_saved_classifier_loads_with_keras_alone(tmp_path):
    """Built of Keras ops only: a registry user loads it without this package."""
    network, tiles = network_and_tiles()
    averaged = CLASSIFIER.for_inference(network)
    averaged.save(tmp_path / "classifier.keras")
    np.save(tmp_path / "tiles.npy", tiles)
    code = (f"import keras, numpy as np, sys; m = keras.saving.load_model({str(tmp_path / 'classifier.keras')!r}, "
            f"compile=False); np.save({str(tmp_path / 'out.npy')!r}, m.predict_on_batch(np.load("
            f"{str(tmp_path / 'tiles.npy')!r}))); assert 'sunspotter' not in sys.modules")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    np.testing.assert_allclose(np.load(tmp_path / "out.npy"), averaged.predict_on_batch(tiles), rtol=1e-6)


def test_localizer_is_saved_as_trained():
    network, _ = network_and_tiles()
    assert LOCALIZER.for_inference(network) is network
