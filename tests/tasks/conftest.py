"""Shared fixtures of the tasks tests."""

import pytest

from tasks import whatwhen as ww


@pytest.fixture
def ww_session():
    """A small what/when session factory: three 6-trial blocks (latency, then probability switch)."""

    def make(seed=0, probe_fraction=0.25):
        par = ww.WhatWhenParadigm(
            blocks=ww.parse_blocks("6:0.15:0.7,0.3; 6:0.25:0.7,0.3; 6:0.25:0.3,0.7"),
            trial_duration=0.4,
            probe_fraction=probe_fraction,
        )
        return ww.generate(par, seed=seed)

    return make
