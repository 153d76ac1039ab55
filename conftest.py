"""Doctests of conv_lab run with ConvSpec and numpy at hand (the formula modules take a spec but do not import it)."""

import numpy as np
import pytest

from conv_lab.core.spec import ConvSpec


@pytest.fixture(autouse=True)
def _doctest_names(doctest_namespace: dict) -> None:
    doctest_namespace.update(ConvSpec=ConvSpec, np=np)
