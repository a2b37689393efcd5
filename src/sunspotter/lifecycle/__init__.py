"""The one layer that imports MLflow: tracking, the registry, model cards, stage plumbing, the epoch
logger handed to training and the pyfunc that wraps the full-disk model."""
