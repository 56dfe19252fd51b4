"""Sphinx configuration for neuroplast's documentation (tutorials are executed by sphinx-gallery)."""

import os
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "docs" / "_ext"))
os.environ.setdefault("MPLBACKEND", "Agg")

_meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
project = "neuroplast"
author = "neuroplast developers"
copyright = "2026, neuroplast developers"
release = version = _meta["version"]
# None until pyproject.toml names the public repository ([project.urls] Repository)
repository_url = _meta.get("urls", {}).get("Repository")

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    # ships MathJax 3 and points mathjax_path at the local copy: math renders offline
    "sphinx-mathjax-offline",
    "sphinx.ext.viewcode",
    "sphinx.ext.extlinks",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "sphinxarg.ext",
    "neuroplast_docs",
]

# :issue:`15` links to the project's issue tracker (plain "issue 15" while there is no address)
extlinks = {"issue": (repository_url + "/issues/%s", "issue %s")} if repository_url else {}

autosummary_generate = True
# Document each object once, in the module that defines it (a re-export documented a second
# time breaks viewcode's "[docs]" links: sims.scan re-exports sims.scan_store's names).
autodoc_default_options = {
    "members": True,
    "undoc-members": False,
    "show-inheritance": True,
    "ignore-module-all": True,
}
numpydoc_show_class_members = False
numpydoc_validation_checks = set()
# tutorials/ holds the gallery's sources; Sphinx reads the generated auto_tutorials/.
exclude_patterns = [
    "_build", "_ext", "_generated", "tutorials", "auto_tutorials/*.ipynb", "**.ipynb_checkpoints",
]


sphinx_gallery_conf = {
    "examples_dirs": "tutorials",
    "gallery_dirs": "auto_tutorials",
    # NEUROPLAST_TUTORIALS=plot_reservoir builds one tutorial while writing it.
    "filename_pattern": "/" + os.environ.get("NEUROPLAST_TUTORIALS", "plot_"),
    "abort_on_example_error": True,
    "remove_config_comments": True,
    "within_subsection_order": "neuroplast_docs.TutorialOrder",
    "download_all_examples": False,
    # the timing pages load jQuery/DataTables from a CDN; the site must work offline
    "write_computation_times": False,
    # figures at 150 dpi stay legible when the theme scales them to the text column
    "image_srcset": ["2x"],
    "matplotlib_animations": False,
}

html_theme = "pydata_sphinx_theme"
html_title = f"neuroplast {release}"
html_static_path = ["_static"]
html_css_files = ["neuroplast.css"]
html_theme_options = {
    "navigation_with_keys": False,
    "icon_links": (
        [{"name": "Source repository", "url": repository_url, "icon": "fa-brands fa-github"}]
        if repository_url
        else []
    ),
    "show_toc_level": 2,
}
html_context = {"default_mode": "light"}
# narrative pages without sub-pages: no empty "Section Navigation" column
html_sidebars = {
    page: []
    for page in (
        "index", "installation", "source", "data", "cli", "results", "scan", "scale", "citing", "changelog",
        "contributing",
    )
}


def _plain_issue_role(name, rawtext, text, lineno, inliner, options=None, content=None):
    from docutils import nodes

    return [nodes.Text(f"issue {text}")], []


def setup(app):
    if not repository_url:
        app.add_role("issue", _plain_issue_role)
