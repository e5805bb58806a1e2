"""The origin set-up block: when it may anchor the auxiliary chain, and the proofs kept from it.

Step 2 ends with the block by which all of its transactions are on chain. The auxiliary chain trusts
that block for good (OriginBlockStore's first checkpoint), so it must not be one that a reorg can
still replace: it is used only once it is `origin.confirmations` blocks deep or reported finalized,
and the wait is shown as it goes. A reorg that replaced it meanwhile is noticed (the block at its
number has another hash) and the set-up block is derived again from the transactions' receipts.

As soon as it is confirmed, every proof steps 3 and 4 need is fetched (OriginCore with its
open-kernel slot, OSTGateway with each stake message slot) and kept in the journal, each checked
here against the block's state root: a full node serves state for the latest ~128 blocks only,
and an operator may take hours to start the auxiliary nodes. `kept_proofs` gives them to step 4
and to `genesis verify`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mosaic_tui import events as ev
from mosaic_tui.chain import proofs
from mosaic_tui.chain.rpc import node_error_sentence, patience
from mosaic_tui.errors import StepFailed
from mosaic_tui.plan import FINALIZED
from mosaic_tui.steps.common import OPEN_KERNEL_HASH_SLOT, STAKED_MESSAGES_SLOT

if TYPE_CHECKING:
    from mosaic_tui.deployment import Deployment

ACTION = "2.setup_block"  # names the work in failures; it is the finish of step 2, not a transaction
POLL = 0.5
TELL_EVERY = 5.0  # seconds between two progress lines of the wait (and on every change of fewer blocks)
MAX_REDERIVATIONS = 5


@dataclass(frozen=True)
class KeptProofs:
    """The `eth_getProof` answers kept from the set-up block, as the node gave them (hex strings)."""

    block_number: int
    block_hash: str
    state_root: str
    origin_core: dict[str, Any]  # with the open-kernel slot
    ost_gateway: dict[str, Any]  # with one storage proof per gateway stake, in `gateway_stakes` order

    def stake_nodes(self, message_hash: str) -> list[bytes]:
        """The storage proof nodes of one gateway stake's message hash."""
        key = proofs.storage_key_for_mapping(bytes.fromhex(message_hash.removeprefix("0x")), STAKED_MESSAGES_SLOT)
        for item in self.ost_gateway["storageProof"]:
            if proofs.as_bytes(item["key"]).rjust(32, b"\0") == key:
                return [proofs.as_bytes(node) for node in item["proof"]]
        raise KeyError(f"no kept proof for the gateway stake {message_hash}")

    def check(self) -> None:
        """Both proofs hold under the kept state root (ProofError otherwise)."""
        root = proofs.as_bytes(self.state_root)
        proofs.check_account_proof(root, self.origin_core)
        proofs.check_account_proof(root, self.ost_gateway)


def kept_proofs(outputs: Mapping[str, Any]) -> KeptProofs | None:
    """The proofs a deployment kept (its journal's outputs), checked against the set-up block's state
    root; None for a deployment whose step 2 has not finished (or that predates kept proofs)."""
    kept = outputs.get("setup_proofs")
    if not isinstance(kept, Mapping):
        return None
    found = KeptProofs(int(outputs["setup_block_number"]), str(outputs["setup_block_hash"]),
                       str(outputs["setup_state_root"]), dict(kept["origin_core"]), dict(kept["ost_gateway"]))
    found.check()
    return found


# --- deriving, confirming and proving the set-up block -----------------------------------------------


def settle(ctx: Deployment) -> dict[str, Any]:
    """Step 2's outputs: the set-up block once confirmed (derived again after a reorg), its proofs."""
    for _ in range(MAX_REDERIVATIONS):
        number = _derive_number(ctx)
        block = _block(ctx, number)
        confirmed = _wait_confirmed(ctx, number, block["hash"])
        if confirmed is None:
            _tell(ctx, f"set-up block {number} was replaced by a reorg; deriving it again", force=True)
            continue
        kept = _fetch_proofs(ctx, confirmed)
        if kept is None:  # the block changed between the wait and the proofs: a reorg, again
            continue
        stakes = _gateway_stakes(ctx)
        return {"setup_block_number": number, "setup_block_hash": confirmed["hash"],
                "setup_state_root": confirmed["stateRoot"], "setup_timestamp": int(confirmed["timestamp"], 16),
                "gateway_stakes": stakes,
                "setup_proofs": {"origin_core": kept.origin_core, "ost_gateway": kept.ost_gateway}}
    raise StepFailed("2", ACTION, f"the origin chain reorganised the set-up block {MAX_REDERIVATIONS} times in a "
                                  "row; wait until the chain is stable and run again")


def _gateway_stakes(ctx: Deployment) -> list[dict[str, Any]]:
    """Every gateway stake of step 2: ours from their receipts, external validators' as found on chain."""
    entries = _step_entries(ctx)
    stakes = [dict(e.outputs["_stake"]) for e in sorted(entries, key=lambda e: e.action_id) if "_stake" in e.outputs]
    return stakes + [dict(s) for e in entries for s in e.outputs.get("_stakes", [])]


def _step_entries(ctx: Deployment) -> list[Any]:
    return [e for e in ctx.journal.entries() if e.action_id.startswith("2.") and e.action_id != ACTION]


def _rpc(ctx: Deployment, what: str, method: str, params: Sequence[Any]) -> Any:
    """One origin call through the retry policy; the node's error answer becomes a sentence."""
    origin = ctx.origin
    reply = origin.call(what, lambda: origin.w3.provider.make_request(method, list(params)))
    if "error" in reply:
        raise StepFailed("2", ACTION, f"the origin node could not answer {what}: "
                                      f"{node_error_sentence(reply['error'])}")
    return reply["result"]


def _block(ctx: Deployment, tag: int | str) -> dict[str, Any]:
    block = _rpc(ctx, "reading a block", "eth_getBlockByNumber", [hex(tag) if isinstance(tag, int) else tag, False])
    if block is None:
        raise StepFailed("2", ACTION, f"the origin node has no block {tag}")
    return dict(block)


def _head(ctx: Deployment) -> int:
    return int(_rpc(ctx, "reading the block number", "eth_blockNumber", []), 16)


def _derive_number(ctx: Deployment) -> int:
    """The block holding the last of step 2's transactions, from receipts read now (a reorg moves them)."""
    entries = _step_entries(ctx)
    # Every origin transaction so far: a reorg deep enough to take step 1's (or the devnet funding's) out
    # leaves step 2's behind a nonce gap, so those are sent again too.
    earlier = [e for e in ctx.journal.entries() if e.chain == "origin" and e.tx_hash and e.status == "confirmed"
               and not e.action_id.startswith("2.")]
    receipts = _current_receipts(ctx, earlier + [e for e in entries if e.tx_hash])
    if not entries or any(not e.tx_hash for e in entries):
        return _head(ctx)  # some effects were found on chain, not sent by us: the latest block holds them all
    return max(int(receipts[e.action_id]["blockNumber"], 16) for e in entries)


def _receipt_now(ctx: Deployment, entry: Any) -> dict[str, Any] | None:
    for tx_hash in (entry.tx_hash, *entry.earlier_tx_hashes):
        receipt = _rpc(ctx, "reading a receipt", "eth_getTransactionReceipt", [tx_hash])
        if receipt is not None and int(receipt["status"], 16) == 1:
            return dict(receipt)
    return None


def _current_receipts(ctx: Deployment, entries: list[Any]) -> dict[str, dict[str, Any]]:
    """The canonical receipts of journalled transactions. Those a reorg removed are sent again, byte for
    byte, one original block at a time: a call mined before the contract it calls exists succeeds as a
    no-op, so the order of the blocks they were first mined in is kept."""
    receipts = {e.action_id: _receipt_now(ctx, e) for e in entries}
    missing = [e for e in entries if receipts[e.action_id] is None]
    if not missing:
        return {action_id: receipt for action_id, receipt in receipts.items() if receipt is not None}
    _tell(ctx, f"{len(missing)} origin transaction(s) left the chain in a reorg; sending the journalled "
               "transactions again (the same signed bytes), block by block", force=True)
    by_block: dict[int, list[Any]] = {}
    for entry in missing:
        by_block.setdefault(entry.receipt.block_number if entry.receipt else 1 << 62, []).append(entry)
    for number in sorted(by_block):
        group = sorted(by_block[number], key=lambda e: (e.sender, e.nonce))
        for entry in group:
            _rebroadcast(ctx.origin, entry.raw_tx)
        deadline = time.monotonic() + max(patience(), 60.0)
        while group:
            time.sleep(POLL)
            for entry in list(group):
                receipts[entry.action_id] = _receipt_now(ctx, entry)
                if receipts[entry.action_id] is not None:
                    group.remove(entry)
            if group and time.monotonic() > deadline:
                raise StepFailed("2", group[0].action_id, f"transaction {group[0].tx_hash} left the origin chain "
                                                          "in a reorg and was not mined again; run again to resume")
    return {action_id: receipt for action_id, receipt in receipts.items() if receipt is not None}


def _rebroadcast(origin: Any, raw_tx: str) -> None:
    # "already known" or "nonce too low" (another version was mined) both mean: wait for a receipt.
    origin.call("broadcasting a transaction again",
                lambda: origin.w3.provider.make_request("eth_sendRawTransaction", [raw_tx]))


def _needed(ctx: Deployment) -> int | str:
    needed: int | str = ctx.plan.confirmations
    return needed


def _wait_confirmed(ctx: Deployment, number: int, block_hash: str) -> dict[str, Any] | None:
    """Wait until block `number` is deep enough; its header then, or None if a reorg replaced it."""
    needed = _needed(ctx)
    head, moved = -1, time.monotonic()
    while True:
        block = _block(ctx, number)
        if block["hash"] != block_hash:
            return None
        latest = _head(ctx)
        if latest != head:
            head, moved = latest, time.monotonic()
        depth = head - number
        if needed == FINALIZED:
            finalized = _finalized(ctx)
            if finalized >= number:
                return block
            target = max(1, head - finalized)
            word = "finalised"
        else:
            assert isinstance(needed, int)
            if depth >= needed:
                return block
            target, word = needed, "confirmed"
        eta = _eta(ctx, number, block, head, max(1, target - depth))
        _tell(ctx, f"set-up block {number} {word} in ~{eta}, {max(depth, 0)}/{target}")
        if time.monotonic() - moved > max(patience(), 30.0):
            raise StepFailed("2", ACTION, f"the origin chain made no new block for {patience():.0f} s while the "
                                          f"set-up block {number} waits for {target} blocks on top; check the origin "
                                          "node and run again (the deployment resumes here)")
        time.sleep(POLL)


def finality_problem(ctx: Deployment) -> str | None:
    """Before anything is sent: a plan waiting for "finalized" needs a node that reports finalized blocks,
    or the deployment would stop after step 2 had spent its fees."""
    if _needed(ctx) != FINALIZED:
        return None
    origin = ctx.origin
    reply = origin.call("reading the finalized block",
                        lambda: origin.w3.provider.make_request("eth_getBlockByNumber", ["finalized", False]))
    if "error" in reply or reply.get("result") is None:
        error = reply.get("error")
        why = (str(error.get("message", error)) if isinstance(error, dict) else str(error)) if error is not None \
            else "it has no finalized block"
        return (f'is "{FINALIZED}" (the default off a devnet), but the origin node does not report finalized blocks '
                f"({why}); give a number of blocks instead.")
    return None


def _finalized(ctx: Deployment) -> int:
    origin = ctx.origin
    reply = origin.call("reading the finalized block",
                        lambda: origin.w3.provider.make_request("eth_getBlockByNumber", ["finalized", False]))
    if "error" in reply or reply.get("result") is None:
        why = node_error_sentence(reply["error"]) if "error" in reply else "it has no finalized block"
        raise StepFailed("2", ACTION, f'origin.confirmations is "{FINALIZED}", but the origin node does not report '
                                      f"finalized blocks ({why}); set origin.confirmations to a number of blocks")
    return int(reply["result"]["number"], 16)


def _eta(ctx: Deployment, number: int, block: Mapping[str, Any], head: int, blocks_to_go: int) -> str:
    """How long `blocks_to_go` more blocks take at the pace the chain has kept since the set-up block."""
    seconds_per_block = 12.0
    if head > number:
        latest = _block(ctx, head)
        spent = int(latest["timestamp"], 16) - int(block["timestamp"], 16)
        seconds_per_block = max(spent / (head - number), 0.1)
    seconds = blocks_to_go * seconds_per_block
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    return f"{round(seconds / 60)} min"


def _tell(ctx: Deployment, text: str, *, force: bool = False) -> None:
    """A Waiting event of step 2 (the wizard's step page and the CLI show it): when the count changes,
    at most once a second, and at least every TELL_EVERY seconds."""
    now = time.monotonic()
    last = ctx.cache.get("setup_block_told")
    if not force and last is not None:
        changed = last[1].rsplit(", ", 1)[-1] != text.rsplit(", ", 1)[-1]
        if now - last[0] < (1.0 if changed else TELL_EVERY):
            return
    ctx.cache["setup_block_told"] = (now, text)
    emit = getattr(ctx, "emit", None)
    if emit is not None:
        emit(ev.Waiting("2", text))
    elif ctx.on_wait is not None:
        ctx.on_wait(text)


def _fetch_proofs(ctx: Deployment, block: Mapping[str, Any]) -> KeptProofs | None:
    """Every proof steps 3-4 need, at the confirmed block, checked against its state root."""
    from mosaic_tui.metablock import genesis_kernel

    number = int(block["number"], 16)
    tag = hex(number)
    core_key = "0x" + proofs.slot_key(OPEN_KERNEL_HASH_SLOT).hex()
    origin_core = _rpc(ctx, "reading OriginCore's proof", "eth_getProof", [ctx.outputs.origin_core, [core_key], tag])
    stakes = _gateway_stakes(ctx)
    stake_keys = ["0x" + proofs.storage_key_for_mapping(bytes.fromhex(s["message_hash"][2:]),
                                                        STAKED_MESSAGES_SLOT).hex() for s in stakes]
    gateway = _rpc(ctx, "reading OSTGateway's proof", "eth_getProof", [ctx.outputs.ost_gateway, stake_keys, tag])
    kept = KeptProofs(number, block["hash"], block["stateRoot"], dict(origin_core), dict(gateway))
    try:
        kept.check()
    except proofs.ProofError:
        if _block(ctx, number)["hash"] != block["hash"]:
            return None
        raise
    plan = ctx.plan
    k0 = genesis_kernel([v.auxiliary_address for v in plan.validators], [v.stake for v in plan.validators]).hash()
    if proofs.storage_slot_value(origin_core) != int.from_bytes(k0, "big"):
        raise StepFailed("2", ACTION, f"OriginCore's open kernel at the set-up block {number} is not the planned "
                                      "kernel K0; Stake.initialize is not in that block's state")
    missing = [s["message_hash"] for index, s in enumerate(stakes) if proofs.storage_slot_value(gateway, index) == 0]
    if missing:
        raise StepFailed("2", ACTION, f"the set-up block {number} does not hold the gateway stake(s) "
                                      f"{', '.join(missing)}")
    return kept


# --- on resume ---------------------------------------------------------------------------------------


def still_canonical(ctx: Deployment) -> bool:
    """Whether the origin chain still has the set-up block at its number."""
    number = ctx.outputs.setup_block_number
    return str(_block(ctx, number)["hash"]).lower() == ctx.outputs.setup_block_hash.lower()


def anchored(ctx: Deployment) -> bool:
    """Whether step 3 has built the auxiliary chain on the set-up block (a transaction sent or its node
    started on the genesis that holds the block)."""
    return any(e.action_id.startswith("3.") and (e.has_transaction or e.action_id == "3.start_node"
                                                 and e.status == "confirmed")
               for e in ctx.journal.entries())


def step_2_reorged(ctx: Deployment, removed: int) -> None:
    """A reorg took some of step 2's transactions off the origin chain, so the set-up block is gone too.
    Before the auxiliary chain is anchored step 2 runs again (its transactions adopted or sent again byte
    for byte) and the set-up block is derived again; afterwards the run stops."""
    if "setup_block_number" in ctx.journal.step_outputs("2") and anchored(ctx):
        raise _replaced("4" if ctx.journal.is_step_done("3") else "3", ctx)
    _tell(ctx, f"{removed} origin transaction(s) of step 2 left the chain in a reorg; they are adopted again or "
               "sent again (the same signed bytes) and the set-up block is derived again", force=True)


def check_before_auxiliary(ctx: Deployment) -> None:
    """Before step 3 builds on the set-up block (and on every resume of it): it must still be canonical.
    Until the auxiliary chain exists it is derived again; afterwards a replaced anchor is fatal."""
    if still_canonical(ctx):
        return
    if anchored(ctx):
        raise _replaced("3", ctx)
    outputs = settle(ctx)
    with ctx.journal.batch():
        for key, value in outputs.items():
            ctx.journal.set_step_output("2", key, value)


def check_before_initialize(ctx: Deployment) -> None:
    """Step 4 proves against the set-up block's state root: the anchor must still be canonical."""
    if not still_canonical(ctx):
        raise _replaced("4", ctx)


def _replaced(step: str, ctx: Deployment) -> StepFailed:
    return StepFailed(step, "setup_block", (
        f"the set-up block {ctx.out('setup_block_number')} is no longer on the "
        "origin chain: a reorg deeper than origin.confirmations replaced it after the auxiliary chain was anchored "
        "on it. The auxiliary chain must start again from a new genesis with a new plan; raise "
        "origin.confirmations (or use \"finalized\")"))
