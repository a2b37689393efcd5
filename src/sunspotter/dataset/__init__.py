"""From raw pairs to training data: date split, tiling, shards, the Parquet index, tf.data and augmentation."""
