"""docs/check_site.py finds broken links and anchors, network assets, raw TeX and reprs."""

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def check_site():
    spec = importlib.util.spec_from_file_location("check_site", ROOT / "docs" / "check_site.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _page(body, head=""):
    return f"<html><head>{head}</head><body>{body}</body></html>"


def test_clean_site_passes(tmp_path, check_site):
    (tmp_path / "sub").mkdir()
    (tmp_path / "index.html").write_text(_page(
        '<a href="sub/page.html#sec">x</a> <a href="#top" id="top">t</a>'
        '<span class="math notranslate nohighlight">\\(\\tilde x\\)</span>',
        '<script src="_static/mathjax/tex-chtml.js"></script>',
    ))
    (tmp_path / "_static" / "mathjax").mkdir(parents=True)
    (tmp_path / "_static" / "mathjax" / "tex-chtml.js").write_text("")
    (tmp_path / "sub" / "page.html").write_text(_page('<section id="sec">ok</section>'))
    problems, n_pages, n_refs = check_site.static_check(tmp_path)
    assert problems == []
    assert (n_pages, n_refs) == (2, 3)
    assert check_site.main([str(tmp_path)]) == 0


def test_each_problem_is_reported(tmp_path, check_site):
    (tmp_path / "index.html").write_text(_page(
        '<a href="missing.html">a</a> <a href="other.html#nowhere">b</a>'
        "<p>raw \\(x\\) math</p><pre>&lt;matplotlib.legend.Legend object at 0x7f59df87f1d0&gt;</pre>"
        "<p>Text(0.5, 0.98611, 'title')</p>"
        '<ol class="upperalpha simple" start="5"><li><p>M. Izhikevich</p></li></ol>'
        '<nav class="bd-docs-nav bd-links"><p>Section Navigation</p><div></div></nav>',
        '<script src="https://cdn.jsdelivr.net/npm/mathjax@4/tex-mml-chtml.js"></script>',
    ))
    (tmp_path / "other.html").write_text(_page('<p id="here">x</p>'))
    problems, _, _ = check_site.static_check(tmp_path)
    text = "\n".join(problems)
    assert "no file missing.html" in text
    assert "no anchor #nowhere in other.html" in text
    assert "from the network" in text
    assert "raw TeX delimiter" in text
    assert "object at 0x7f59df87f1d0" in text
    assert "Text(0" in text
    assert "lettered list" in text
    assert "empty 'Section Navigation'" in text
    assert len(problems) == 8
    assert check_site.main([str(tmp_path)]) == 1


def test_cli_reference_must_list_every_option(tmp_path, check_site):
    (tmp_path / "cli.html").write_text(_page("neuroplast run reservoir --n-neurons"))
    problems = check_site.cli_check(tmp_path, "sims.cli:build_parser")
    assert any("'neuroplast run nalsm'" in p for p in problems)
    assert any("--duration" in p for p in problems)
    assert not any("--n-neurons of 'neuroplast run reservoir'" in p for p in problems)
