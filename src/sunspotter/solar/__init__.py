"""The Sun in a picture, without TensorFlow or MLflow: disk geometry, flattening, background, edges,
dust, the classical detectors, the catalog, reading any solar image."""
