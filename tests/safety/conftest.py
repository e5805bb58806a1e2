"""The safety suite (issue 13): the figure each test measured, shown like the reliability suite's."""

from __future__ import annotations

from tests.reliability.conftest import figure  # noqa: F401  (the fixture)
