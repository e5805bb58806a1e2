"""The safety suite (issue 13): the figure each test measured, shown like the reliability suite's."""

from __future__ import annotations

from tests.reliability.conftest import figure, stop_devnet_nodes  # noqa: F401  (fixtures)
