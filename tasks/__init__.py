"""Datasets, task streams and metrics for prediction and continual learning (no Brian2)."""
