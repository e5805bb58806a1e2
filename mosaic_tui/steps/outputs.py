"""The outputs one step leaves for the next, by name and type: `ctx.outputs.origin_core` instead of a string key.

The journal keeps outputs as JSON (addresses and hashes as text, numbers as integers); this is the one
list of what a later step may read, each with the type it reads as. A missing output is a StepFailed
naming it (`Deployment.out`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class _Output(Generic[T]):
    def __init__(self, kind: Callable[[Any], T]) -> None:
        self.kind = kind
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, outputs: Outputs, owner: type | None = None) -> T:
        return self.kind(outputs.read(self.name))


def _stakes(value: Any) -> list[dict[str, Any]]:
    return [dict(stake) for stake in value]


class Outputs:
    """What the journal holds from earlier steps."""

    # step 0 (devnet) and step 1
    ost = _Output(str)
    origin_core = _Output(str)
    stake = _Output(str)
    ost_gateway = _Output(str)
    # step 2: the set-up block K0 is proven against, and the gateway stakes the auxiliary mints pay out
    setup_block_hash = _Output(str)
    setup_block_number = _Output(int)
    setup_state_root = _Output(str)
    setup_timestamp = _Output(int)
    gateway_stakes = _Output(_stakes)
    # step 3: the genesis and the contracts in it
    genesis_path = _Output(str)
    genesis_hash = _Output(str)
    origin_block_store = _Output(str)
    auxiliary_block_store = _Output(str)
    polling_place = _Output(str)
    kernel_gateway = _Output(str)
    ost_prime = _Output(str)
    proposer_set = _Output(str)

    def __init__(self, read: Callable[[str], Any]) -> None:
        self.read = read
