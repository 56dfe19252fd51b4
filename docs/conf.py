"""Sphinx configuration for neuroplast's documentation (tutorials are executed by sphinx-gallery)."""

import os
import sys
from importlib.metadata import version as _version

sys.path.insert(0, os.path.abspath(".."))
os.environ.setdefault("MPLBACKEND", "Agg")

project = "neuroplast"
author = "neuroplast developers"
copyright = "2026, neuroplast developers"
release = _version("neuroplast")

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

autosummary_generate = True
autodoc_default_options = {"members": True, "undoc-members": False, "show-inheritance": True}
numpydoc_show_class_members = False
numpydoc_validation_checks = set()
# tutorials/ holds the gallery's sources; Sphinx reads the generated auto_tutorials/.
exclude_patterns = ["_build", "tutorials", "auto_tutorials/*.ipynb", "**.ipynb_checkpoints"]


sphinx_gallery_conf = {
    "examples_dirs": "tutorials",
    "gallery_dirs": "auto_tutorials",
    # NEUROPLAST_TUTORIALS=plot_reservoir builds one tutorial while writing it.
    "filename_pattern": "/" + os.environ.get("NEUROPLAST_TUTORIALS", "plot_"),
    "abort_on_example_error": True,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
}

html_theme = "pydata_sphinx_theme"
html_title = "neuroplast"
html_theme_options = {"navigation_with_keys": False}
