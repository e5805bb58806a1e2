"""The genesis hash `genesis verify` prints, checked against a real AuRa network: Gnosis chain.

Nethermind cannot run here, so the hash function (`genesis.aura_genesis_hash`) and the state trie
(`genesis.state_root`) are held to a chain whose block 0 is known. From Nethermind's own chain spec,
src/Nethermind/Chains/gnosis.json (the `genesis` section: AuRa seal step 0 and a 65-byte zero signature,
difficulty 0x20000, gas limit 0x989680, no author, timestamp or extra data; and the four precompiles
0x01-0x04 holding 1 wei each, the only accounts with state), the state root must be Gnosis's
0x40cf4430... and the hash 0x4f1dd231..., the values Nethermind's config test
(src/Nethermind/Nethermind.Runner.Test/ConfigFilesTests.cs, `Genesis_hash_is_correct`, "gnosis") and
other clients' chain parameters hold for Gnosis block 0.
"""

from __future__ import annotations

from mosaic_tui import genesis

GNOSIS_GENESIS_HASH = "0x4f1dd23188aab3a76b463e4af801b52b1248ef073c648cbdc4c9333d3da79756"
GNOSIS_STATE_ROOT = "40cf4430ecaa733787d1a65154a3b9efb560c95d9e324a23b97f0609b539133b"

# gnosis.json's genesis, with the fields it leaves out at the values a client takes for them.
GNOSIS_SPEC = {"genesis": {
    "seal": {"authorityRound": {"step": "0x0", "signature": "0x" + "00" * 65}},
    "difficulty": "0x20000", "gasLimit": "0x989680",
    "author": "0x" + "00" * 20, "timestamp": "0x0", "extraData": "0x"}}
PRECOMPILES_WITH_ONE_WEI = {f"0x{number:040x}": {"nonce": 0, "balance": 1, "code": b"", "storage": {}}
                            for number in range(1, 5)}


def test_the_state_root_of_gnosis_block_0() -> None:
    assert genesis.state_root(PRECOMPILES_WITH_ONE_WEI).hex() == GNOSIS_STATE_ROOT


def test_the_genesis_hash_of_gnosis_block_0() -> None:
    root = genesis.state_root(PRECOMPILES_WITH_ONE_WEI)
    assert genesis.aura_genesis_hash(GNOSIS_SPEC, root) == GNOSIS_GENESIS_HASH
    # The seal fields are part of the hash: a proof-of-work style header of the same block differs.
    sealed_otherwise = {"genesis": {**GNOSIS_SPEC["genesis"], "seal": {"authorityRound": {
        "step": "0x1", "signature": "0x" + "00" * 65}}}}
    assert genesis.aura_genesis_hash(sealed_otherwise, root) != GNOSIS_GENESIS_HASH
