"""Small facts several steps share: where OST is, what a validator needs, the auxiliary nonces."""

from __future__ import annotations

from typing import Any

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


def kernel_hash_key(height: int) -> bytes:
    """The storage key of `OriginCore.kernelHashes[height]`, which proves a kernel from any later origin block."""
    from mosaic_tui.chain.proofs import storage_key_for_mapping

    return storage_key_for_mapping(height.to_bytes(32, "big"), KERNEL_HASHES_SLOT)


def ost_address(ctx: Any) -> str:
    return str(ctx.out("ost")) if ctx.plan.deploys_ost else str(ctx.plan.origin.ost)


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
