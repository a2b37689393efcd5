"""Augmentation: image and mask move together, brightness stays small, and the same seed gives the same stream."""

import numpy as np
import tensorflow as tf

from sunspotter.dataset.augment import Augmentation, augmented

SIZE = 8


def _tiles(n: int):
    """Tiles whose image is an asymmetric ramp darkened exactly where the mask is 1."""
    rng = np.random.default_rng(0)
    masks = (rng.random((n, SIZE, SIZE, 1)) < 0.2).astype(np.float32)
    ramp = (1.0 + np.arange(SIZE * SIZE, dtype=np.float32).reshape(1, SIZE, SIZE, 1) / 100.0)
    images = ramp * (1.0 - 0.5 * masks)
    return images, masks


def _run(images, targets, seed, brightness=0.05, spatial=True):
    ds = tf.data.Dataset.from_tensor_slices((images, targets))
    out = list(augmented(ds, seed, Augmentation(brightness=brightness), spatial).as_numpy_iterator())
    return np.stack([o[0] for o in out]), np.stack([o[1] for o in out])


def test_geometry_is_one_of_the_eight_symmetries_and_all_occur():
    images, masks = _tiles(200)
    out_images, out_masks = _run(images, masks, seed=5, brightness=0.0)
    seen = set()
    for source, mask, out_mask, out_image in zip(images, masks, out_masks, out_images):
        matches = [k for k, (turned_mask, turned_image) in enumerate(_symmetries(mask, source))
                   if np.array_equal(turned_mask, out_mask) and np.allclose(turned_image, out_image)]
        # A match of both at the same k: mask and image moved together.
        assert matches, "output is not a flip/rotation of the input, or mask and image moved differently"
        seen.update(matches)
    assert seen == set(range(8))


def _symmetries(mask, image):
    for flip in (False, True):
        m, i = (mask[:, ::-1], image[:, ::-1]) if flip else (mask, image)
        for k in range(4):
            yield np.rot90(m, k), np.rot90(i, k)


def test_brightness_is_bounded_and_the_mask_untouched():
    images, masks = _tiles(100)
    out_images, _ = _run(images, masks, seed=1, brightness=0.05)
    factors = out_images.reshape(100, -1).sum(1) / images.reshape(100, -1).sum(1)
    assert (factors >= 0.95 - 1e-5).all() and (factors <= 1.05 + 1e-5).all()
    assert factors.std() > 0.01  # it does vary


def test_same_seed_same_stream_other_seed_other_stream():
    images, masks = _tiles(32)
    a = _run(images, masks, seed=7)
    b = _run(images, masks, seed=7)
    c = _run(images, masks, seed=8)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])


def test_classifier_labels_are_left_alone():
    images, _ = _tiles(16)
    labels = np.arange(16, dtype=np.float32) % 2
    _, out_labels = _run(images, labels, seed=2, spatial=False)
    assert np.array_equal(out_labels, labels)


def _run_blur(images, targets, seed, seeing_blur):
    ds = tf.data.Dataset.from_tensor_slices((images, targets))
    out = list(augmented(ds, seed, Augmentation(seeing_blur=seeing_blur), True).as_numpy_iterator())
    return np.stack([o[0] for o in out]), np.stack([o[1] for o in out])


def test_seeing_blurs_about_half_the_images_and_never_the_mask():
    rng = np.random.default_rng(3)
    images = rng.random((64, 32, 32, 1)).astype(np.float32)
    masks = (rng.random((64, 32, 32, 1)) < 0.2).astype(np.float32)
    sharp_images, sharp_masks = _run_blur(images, masks, seed=4, seeing_blur=0.0)
    blurred_images, blurred_masks = _run_blur(images, masks, seed=4, seeing_blur=3.0)
    # Flips and turns are drawn as without blur: the masks match tile for tile.
    assert np.array_equal(sharp_masks, blurred_masks)
    untouched = np.array([np.array_equal(a, b) for a, b in zip(sharp_images, blurred_images)])
    assert 16 <= (~untouched).sum() <= 48
    # A blur smooths (white noise loses most of its variance) and keeps the mean (weights sum to 1).
    changed_std = blurred_images[~untouched].std(axis=(1, 2, 3))
    assert (changed_std < 0.8 * sharp_images[~untouched].std(axis=(1, 2, 3))).all()
    assert np.allclose(blurred_images.mean(axis=(1, 2, 3)), sharp_images.mean(axis=(1, 2, 3)), atol=0.03)


def test_seeing_of_a_flat_tile_leaves_it_flat_to_its_edges():
    from sunspotter.dataset.augment import seeing

    flat = tf.ones((16, 16, 2))
    assert np.allclose(seeing(flat, tf.constant(2.0), 7).numpy(), 1.0, atol=1e-5)


def _disk_edge_tiles(n: int):
    """128-px tiles of a limb: quiet Sun (1, 1 % granulation) left of a vertical edge, sky (0) right of it,
    with a 10-px dark spot (0.4) at the centre, where flips and turns leave it, and its mask."""
    rng = np.random.default_rng(11)
    images = np.where(np.arange(128) < 90, 1.0, 0.0)[None, None, :, None] * np.ones((n, 128, 1, 1))
    images = images * (1 + 0.01 * rng.standard_normal((n, 128, 128, 1)))
    yy, xx = np.mgrid[:128, :128]
    spot = ((yy - 63.5) ** 2 + (xx - 63.5) ** 2 < 10 ** 2)[None, :, :, None]
    return np.where(spot, 0.4, images).astype(np.float32), np.repeat(spot, n, 0).astype(np.float32)


def test_quicklooks_are_coarser_some_jpeg_and_the_mask_stays_sharp():
    from sunspotter.dataset.augment import quicklook

    images, masks = _disk_edge_tiles(64)
    plain = Augmentation()
    looks = Augmentation(quicklook_fraction=0.5, quicklook_scale=5.0)
    ds = tf.data.Dataset.from_tensor_slices((images, masks))
    base = list(augmented(ds, 3, plain, True).as_numpy_iterator())
    out = list(augmented(ds, 3, looks, True).as_numpy_iterator())
    # The flips and turns are drawn as without quick-looks: the masks match tile for tile, sharp (0 or 1).
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(base, out))
    changed = np.array([not np.array_equal(a[0], b[0]) for a, b in zip(base, out)])
    assert 16 <= changed.sum() <= 48
    # Coarser: the 1 % pixel-to-pixel granulation is averaged away in the disk's interior.
    for (image, _), (source, _) in zip([o for o, c in zip(out, changed) if c], [b for b, c in zip(base, changed) if c]):
        assert image.shape == source.shape and image.dtype == np.float32
        assert np.diff(image[..., 0], axis=1).std() < 0.7 * np.diff(source[..., 0], axis=1).std()
    # JPEG at a low quality changes a coarse tile beyond what binning alone does, and rings at the limb.
    tile = tf.constant(images[0])
    binned = quicklook(tile, tf.constant(4.0), tf.constant(50), tf.constant(100.0), tf.constant(False)).numpy()
    jpeg = quicklook(tile, tf.constant(4.0), tf.constant(50), tf.constant(100.0), tf.constant(True)).numpy()
    assert np.abs(jpeg - binned).max() > 0.02
    # ... but keeps the quiet Sun and the spot where they were: the spot is still dark, the disk still 1.
    assert jpeg[64, 64, 0] < 0.7 and abs(float(np.median(jpeg[5:40, 5:40])) - 1.0) < 0.03


def test_contrast_power_keeps_the_quiet_sun_and_the_sky():
    from sunspotter.dataset.augment import contrast_power

    contrasts = tf.constant([[[0.0], [-0.01], [1.0], [0.25]]], tf.float32)
    darker = contrast_power(contrasts, tf.constant(1.2)).numpy().ravel()
    assert np.array_equal(darker[:3], contrasts.numpy().ravel()[:3])
    assert np.isclose(darker[3], 0.25 ** 1.2)
    images, masks = _disk_edge_tiles(32)
    ds = tf.data.Dataset.from_tensor_slices((images, masks))
    spots = [o[0][64, 64, 0] for o in augmented(ds, 5, Augmentation(contrast_gamma=0.3), True).as_numpy_iterator()]
    assert min(spots) < 0.4 ** 1.1 and max(spots) > 0.4 ** 0.9  # both ways
    assert all(0.4 ** 1.3 - 1e-4 <= s <= 0.4 ** 0.7 + 1e-4 for s in spots)


def test_augmentation_read_from_older_train_settings():
    old = {"augment": True, "brightness": 0.1, "batch_size": 16}
    assert Augmentation.of(old) == Augmentation(brightness=0.1)
    assert Augmentation.of(old | {"augment": False}) is None
