"""The training losses: focal cross-entropy weighs hard cases more; Dice + cross-entropy punishes missed spots."""

import numpy as np
import pytest

from sunspotter.models.losses import DiceCrossEntropy, cross_entropy


def test_saturated_predictions_give_finite_gradients():
    """A U-Net's sigmoid saturates at exactly 0 or 1 on easy pixels; the loss must still train (no NaN)."""
    import tensorflow as tf

    truth = tf.constant([[1.0], [0.0], [1.0], [0.0]])
    for gamma in (0.0, 2.0):
        logits = tf.Variable([[40.0], [-40.0], [0.3], [-0.2]])  # the first two round to exactly 1 and 0
        with tf.GradientTape() as tape:
            loss = DiceCrossEntropy(focal_gamma=gamma)(truth, tf.sigmoid(logits))
        assert np.isfinite(tape.gradient(loss, logits).numpy()).all(), gamma


def test_focal_loss_shifts_weight_to_confident_mistakes():
    """A dust speck called 'spot' at p = 0.9 must cost far more than an easy quiet-Sun tile at p = 0.1."""
    easy, hard = np.array([[0.1]], np.float32), np.array([[0.9]], np.float32)
    negative = np.array([[0.0]], np.float32)

    def ratio(gamma):
        loss = cross_entropy(gamma)
        return float(loss(negative, hard)) / float(loss(negative, easy))

    assert ratio(2.0) > 10 * ratio(0.0)


def test_dice_cross_entropy_rewards_the_right_mask():
    mask = np.zeros((2, 8, 8, 1), np.float32)
    mask[0, 2:5, 2:5] = 1.0
    loss = DiceCrossEntropy(focal_gamma=0.0)
    right = float(loss(mask, np.clip(mask, 0.01, 0.99)))
    nothing = float(loss(mask, np.full_like(mask, 0.01)))
    assert right < 0.1 < 1.0 < nothing
    assert DiceCrossEntropy(focal_gamma=2.0).get_config()["focal_gamma"] == 2.0


def test_unlabelled_pixels_cost_nothing_and_score_nothing():
    """The limb band (pspt.UNLABELLED) is left out: whatever is predicted there, loss and Dice are the same, and
    its gradient is zero."""
    import tensorflow as tf

    from sunspotter.io.pspt import UNLABELLED
    from sunspotter.models.losses import DiceScore

    mask = np.zeros((1, 8, 8, 1), np.float32)
    mask[0, 2:5, 2:5] = 1.0
    with_band = mask.copy()
    with_band[0, :, 7] = UNLABELLED
    guess = np.clip(mask, 0.01, 0.99)
    called_in_band = guess.copy()
    called_in_band[0, :, 7] = 0.99  # a dark patch at the limb called a spot
    loss = DiceCrossEntropy(focal_gamma=0.0)
    assert float(loss(with_band, called_in_band)) == pytest.approx(float(loss(with_band, guess)), abs=1e-6)
    assert float(loss(mask, called_in_band)) > float(loss(mask, guess)) + 0.1  # labelled quiet Sun: it costs
    logits = tf.Variable(np.full_like(mask, 3.0))
    with tf.GradientTape() as tape:
        value = loss(with_band, tf.sigmoid(logits))
    assert np.all(tape.gradient(value, logits).numpy()[0, :, 7] == 0.0)
    score = DiceScore()
    score.update_state(with_band, called_in_band)
    assert float(score.result()) == pytest.approx(1.0)


def _spot_and_pore():
    """A 20 x 20 spot and, far from it, a pore of 2 pixels, on a 40 x 40 tile."""
    mask = np.zeros((1, 40, 40, 1), np.float32)
    mask[0, 6:26, 6:26] = 1.0
    mask[0, 34, 34:36] = 1.0
    return mask


def test_small_spot_weights_fall_on_pores_and_their_rims():
    from sunspotter.models.losses import small_spot_weights

    weights = np.asarray(small_spot_weights(_spot_and_pore(), 10.0))[0, ..., 0]
    assert weights[34, 34] == pytest.approx(1 + 10 * 79 / 81)   # the pore: 2 spot pixels of 81
    assert weights[32, 37] == pytest.approx(weights[34, 34])     # its rim, 2 pixels out, weighs as much
    assert weights[31, 34] == 1.0 and weights[34, 38] == 1.0     # 3 pixels out: plain quiet Sun
    assert weights[16, 16] == 1.0                                # deep inside the spot
    assert 1 + 10 * 0.4 < weights[16, 6] < 1 + 10 * 0.5          # its straight edge, about half spot around


@pytest.mark.parametrize("mistake", ["missed", "too wide"])
def test_small_spot_weight_makes_pore_mistakes_cost(mistake):
    """Missing the pore, or drawing it 3 pixels wide, costs several times more than in the plain loss; the Dice
    term, the same in both, keeps it from being the weight's whole factor."""
    mask = _spot_and_pore()
    right = np.clip(mask, 0.01, 0.99)
    wrong = right.copy()
    if mistake == "missed":
        wrong[0, 34, 34:36] = 0.01
    else:
        wrong[0, 33:36, 33:37] = 0.99

    def cost(weight):
        loss = DiceCrossEntropy(small_spot_weight=weight)
        return float(loss(mask, wrong)) - float(loss(mask, right))

    assert cost(10.0) > 5 * cost(0.0) > 0
    assert DiceCrossEntropy(small_spot_weight=10.0).get_config()["small_spot_weight"] == 10.0


def test_small_spot_weights_equal_keras_pooling():
    """The shifted copies give what Keras' pooling gives (an average over the neighbourhood's pixels on the
    tile, then a maximum), at a fraction of its cost: spots cut by the tile's edge included."""
    from keras import ops

    from sunspotter.models.losses import small_spot_weights

    rng = np.random.default_rng(1)
    truth = (rng.random((2, 48, 48, 1)) < 0.05).astype(np.float32)
    truth[:, 10:30, 0:20] = 1.0  # cut by the left edge
    density = ops.average_pool(ops.average_pool(truth, (9, 1), 1, "same"), (1, 9), 1, "same")
    expected = 1.0 + 10.0 * ops.max_pool(truth * (1.0 - density), 5, 1, "same")
    np.testing.assert_allclose(small_spot_weights(truth, 10.0), expected, atol=1e-5)
