"""Shared test settings: quiet Brian2, headless matplotlib."""

import matplotlib

matplotlib.use("Agg")
