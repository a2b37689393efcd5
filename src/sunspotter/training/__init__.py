"""The fit loop shared by both models, and its devices; it knows nothing of MLflow."""
