"""Small facts several steps share: where OST is, what a validator needs, the auxiliary nonces."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mosaic_tui.deployment import Deployment

# Gas a validator spends on origin (two approvals and a gateway stake), with room to spare.
VALIDATOR_ORIGIN_GAS = 400_000
# The auxiliary contracts are in the auxiliary genesis at fixed addresses (genesis.py); these names
# stay for the modules and tests that list them.
AUXILIARY_ORDER = ("OriginBlockStore", "AuxiliaryBlockStore", "PollingPlace", "KernelGateway", "OSTPrime",
                   "ProposerSet")
AUXILIARY_OUTPUTS = {"OriginBlockStore": "origin_block_store", "AuxiliaryBlockStore": "auxiliary_block_store",
                     "PollingPlace": "polling_place", "KernelGateway": "kernel_gateway", "OSTPrime": "ost_prime",
                     "ProposerSet": "proposer_set"}
OPEN_KERNEL_HASH_SLOT = 0
KERNEL_HASHES_SLOT = 1  # OriginCore.kernelHashes: every kernel ever opened, by height
STAKED_MESSAGES_SLOT = 0


# Gas of the actions whose cost grows with the validator count, measured on anvil
# (benchmarks/gas_floor.py) and rounded up; the deployment splits what does not fit one block.
INITIALIZE_BASE = 250_000  # Stake.initialize / registerValidators without validators, K0 opened
INITIALIZE_PER_VALIDATOR = 90_000  # registering one genesis validator and pulling its stake
INITIALIZE_FINAL_PER_VALIDATOR = 9_000  # initialize reading back one validator registered in an earlier chunk
OPENING_BASE = 300_000  # KernelGateway.proveBlockOpening / proveKernelOpening, storage proof included
OPENING_CALLDATA_PER_VALIDATOR = 2_000  # one validator in the kernel's arrays: calldata, copy, hash
OPENING_PER_VALIDATOR = 50_000  # PollingPlace storing one validator and its weight
HAND_OVER_PER_VALIDATOR = 32_000  # ProposerSet.handOver per validator
# The runner signs estimate * 1.25 + 20,000 gas (chain/sender.py); a transaction must fit a block.
_SIGNED_MARGIN, _SIGNED_EXTRA, _SAFETY = 1.25, 20_000, 0.9


def gas_budget(block_gas_limit: int) -> int:
    """The most gas one of our transactions may need so that, signed with our margin, it fits a block."""
    return int((block_gas_limit - _SIGNED_EXTRA) / _SIGNED_MARGIN * _SAFETY)


def genesis_chunks(count: int, block_gas_limit: int) -> list[int]:
    """How many validators each Stake genesis transaction registers: one `initialize` when the whole
    set fits a block, otherwise `registerValidators` chunks and a last `initialize` (which also reads
    every earlier validator back to open K0). Empty when even one validator does not fit."""
    budget = gas_budget(block_gas_limit) - INITIALIZE_BASE
    if count * INITIALIZE_PER_VALIDATOR <= budget:
        return [count]
    chunk = budget // INITIALIZE_PER_VALIDATOR
    final_room = budget - count * INITIALIZE_FINAL_PER_VALIDATOR
    if chunk < 1 or final_room < 0:
        return []
    last = min(count, final_room // INITIALIZE_PER_VALIDATOR)
    return [*_even(count - last, chunk), last]


def _even(count: int, most: int) -> list[int]:
    """`count` split into as few parts of at most `most` as possible, of nearly equal size."""
    if count <= 0:
        return []
    parts = -(-count // most)
    return [count // parts + (1 if index < count % parts else 0) for index in range(parts)]


def opening_parts(count: int, block_gas_limit: int) -> list[int] | None:
    """How to activate a kernel of `count` validators on the auxiliary chain: None for one
    `proveBlockOpening`; else the validators each `activateKernelPart` applies after
    `proveKernelOpening`. Empty when it cannot fit at all."""
    budget = gas_budget(block_gas_limit) - OPENING_BASE - count * OPENING_CALLDATA_PER_VALIDATOR
    if budget < 0:
        return []
    if count * OPENING_PER_VALIDATOR <= budget:
        return None
    part = budget // OPENING_PER_VALIDATOR
    if part < 1 or count < 2:
        return []
    return _even(count, part)


def largest_validator_count(origin_gas_limit: int, auxiliary_gas_limit: int) -> int:
    """The most genesis validators a deployment can take with these block gas limits."""
    def fits(count: int) -> bool:
        return bool(genesis_chunks(count, origin_gas_limit)) and opening_parts(count, auxiliary_gas_limit) != [] \
            and count * HAND_OVER_PER_VALIDATOR <= gas_budget(auxiliary_gas_limit)
    low, high = 0, 1
    while fits(high) and high < 10**7:
        low, high = high, high * 2
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if fits(middle) else (low, middle)
    return low


def origin_gas_limit(ctx: Deployment) -> int:
    """The origin chain's block gas limit now (a transaction of ours must fit it)."""
    return int(ctx.origin.w3.eth.get_block("latest")["gasLimit"])


def kernel_hash_key(height: int) -> bytes:
    """The storage key of `OriginCore.kernelHashes[height]`, which proves a kernel from any later origin block."""
    from mosaic_tui.chain.proofs import storage_key_for_mapping

    return storage_key_for_mapping(height.to_bytes(32, "big"), KERNEL_HASHES_SLOT)


def ost_address(ctx: Deployment) -> str:
    return ctx.outputs.ost if ctx.plan.deploys_ost else str(ctx.plan.origin.ost)


def validator_eth_needed(plan: Any) -> int:
    """ETH a devnet validator is given: its origin transactions at a generous 100 gwei."""
    return VALIDATOR_ORIGIN_GAS * 100 * 10**9


def auxiliary_addresses(proposer: str | None = None) -> dict[str, str]:
    """The auxiliary contracts' fixed genesis addresses, by output name (the same for every deployment;
    `proposer` is accepted for older callers and ignored)."""
    from mosaic_tui.genesis import system_addresses

    return system_addresses()


def origin_core_identifier(origin_chain_id: int) -> bytes:
    """The identifier votes on origin checkpoints carry: the origin chain id and no auxiliary part."""
    return origin_chain_id.to_bytes(8, "big") + bytes(12)
