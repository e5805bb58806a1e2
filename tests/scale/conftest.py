"""The whole-deployment fixtures of tests/engine (a private devnet folder, free ports, nodes stopped after)."""

from tests.engine.conftest import devnet_run  # noqa: F401
