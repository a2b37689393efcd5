"""great-expectations suites that stand between pipeline stages."""
