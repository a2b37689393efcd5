"""The two kinds of model, one object each: what a kind is built from, trained against and judged by.

Code that differs between the classifier and the localizer asks its ``ModelKind`` (``kind.per_tile``,
``kind.loss(...)``); the kind's name is only a key (``params.yaml``'s ``train.<name>``, metrics files).
Keras is imported only when a model is built or compiled, so reading a kind costs nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


def _classifier(tile_size: int, filters: list[int], channels: int = 1):
    from sunspotter.models.classifier import build_classifier

    return build_classifier(tile_size, filters, channels)


def _localizer(tile_size: int, filters: list[int], channels: int = 1):
    from sunspotter.models.localizer import build_localizer

    return build_localizer(tile_size, filters, channels)


@dataclass(frozen=True)
class ModelKind:
    name: str
    builder: Callable  # (tile_size, filters, channels) -> an uncompiled keras.Model
    per_tile: bool     # True: one label per tile (scored over tiles); False: a mask (scored over pixels)
    description: str   # what the model does, for its model card

    @property
    def target(self) -> str:
        """What a tile record gives it to learn: the tile's ``label`` or its pixel ``mask``."""
        return "label" if self.per_tile else "mask"

    @property
    def unit(self) -> str:
        """What its scores and confusion counts count."""
        return "tiles" if self.per_tile else "pixels"

    def build(self, tile_size: int, filters: list[int], channels: int = 1):
        return self.builder(tile_size, filters, channels)

    def loss(self, focal_gamma: float = 0.0, small_spot_weight: float = 0.0):
        """The training loss; ``small_spot_weight`` is for masks only (a tile's one label has no pores)."""
        from sunspotter.models.losses import DiceCrossEntropy, cross_entropy

        if self.per_tile:
            return cross_entropy(focal_gamma)
        return DiceCrossEntropy(focal_gamma, small_spot_weight)

    def metrics(self) -> list:
        import keras

        from sunspotter.models.losses import DiceScore

        if self.per_tile:
            return [keras.metrics.BinaryAccuracy(name="accuracy"), keras.metrics.AUC(name="auc"),
                    keras.metrics.Precision(name="precision"), keras.metrics.Recall(name="recall")]
        return [DiceScore(name="dice")]

    def for_inference(self, network):
        """The trained network as it is scored and saved: a tile label averaged over the tile's flips and turns
        (``dihedral_mean``); a mask as it is, since whole images are its use and eight passes would cost
        eight times over."""
        from sunspotter.models.classifier import dihedral_mean

        return dihedral_mean(network) if self.per_tile else network


CLASSIFIER = ModelKind("classifier", _classifier, per_tile=True,
                       description="says whether a 128 x 128 tile of a full-disk image holds a sunspot")
LOCALIZER = ModelKind("localizer", _localizer, per_tile=False,
                      description="takes a whole full-disk solar image and returns its sunspot mask "
                                  "(a U-Net run over overlapping tiles)")
#: Every kind by its name, in training order.
KINDS = {kind.name: kind for kind in (CLASSIFIER, LOCALIZER)}
