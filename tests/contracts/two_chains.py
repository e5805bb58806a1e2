"""The two-chain fixtures shared by the auxiliary contract tests and the monitor tests.

Import `deployed` and `chains` into a test module to use them: one pair of nodes per module, and every
test starts from the same snapshot of the deployment as step 3 leaves it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.contracts import aux_setup
from tests.contracts.aux_setup import TwoChains


@pytest.fixture(scope="module")
def deployed() -> Iterator[TwoChains]:
    with aux_setup.running_two_chains() as chains:
        yield chains


@pytest.fixture
def chains(deployed: TwoChains) -> Iterator[TwoChains]:
    ids = deployed.snapshot()
    yield deployed
    deployed.revert(ids)
