"""Small Sphinx helpers for neuroplast's documentation (loaded from docs/conf.py)."""

from __future__ import annotations

import re
from pathlib import Path

# Reading order of the tutorials: a beginner starts with the reservoir.
TUTORIAL_ORDER = (
    "plot_reservoir.py", "plot_nalsm.py", "plot_whatwhen.py", "plot_hlop.py", "plot_continual_liquid.py",
    "plot_scan.py",
)


class TutorialOrder:
    """sphinx-gallery ``within_subsection_order``: the order of ``TUTORIAL_ORDER``, others last by name."""

    def __init__(self, src_dir):
        self.src_dir = src_dir

    def __call__(self, filename):
        name = Path(filename).name
        rank = TUTORIAL_ORDER.index(name) if name in TUTORIAL_ORDER else len(TUTORIAL_ORDER)
        return f"{rank:03d}{name}"

    def __repr__(self):  # sphinx-gallery stores the key in its config; keep it stable across builds
        return f"<{type(self).__name__}>"


# "E. M. Izhikevich, ..." at the start of a docstring line is an alphabetic enumerated list to
# docutils; escaping the initial keeps reference lines as text.
_INITIAL = re.compile(r"^(\s*)([A-Z])\. (?=[A-Z][a-z.]|[A-Z]\.)")


def _escape_initials(app, what, name, obj, options, lines):
    for i, line in enumerate(lines):
        lines[i] = _INITIAL.sub(r"\1\\\2. ", line)


def setup(app):
    app.connect("autodoc-process-docstring", _escape_initials, priority=400)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
