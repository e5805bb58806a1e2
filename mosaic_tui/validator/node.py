"""The validator node's duties, one pass at a time (`ValidatorNode.tick`).

Per pass, in this order, each one line in the log when it did something:
1. report: new origin headers to OriginBlockStore and new auxiliary headers to AuxiliaryBlockStore.
   One reporter is enough: the validator first in PollingPlace's list reports at once, the k-th
   only when the store's head has not moved for k times the stall time (two epochs), so a stopped reporter
   is replaced without every validator paying for every header.
2. vote: a Casper FFG link from the highest justified checkpoint on the finalised chain to the next
   checkpoint, on both chains, signed (EIP-712) with the auxiliary key and sent to PollingPlace.
   When others already voted higher, the node joins them at that height; when its own vote has not
   been justified for a while (validators missing, or a new kernel that reset the tallies), it
   moves one checkpoint up, so the live validators meet again at one target.
3. commit: when an auxiliary checkpoint newer than the head meta-block is final and the open kernel
   is the active one on the auxiliary chain, vote for the valid proposal of it on OriginCore
   (proposing it first if nobody has), so the meta-block commits at 2/3 and the next kernel opens.
4. prove: the next kernel OriginCore opened, proven on the auxiliary chain (KernelGateway) from the
   latest finalised origin checkpoint (a storage proof of `OriginCore.kernelHashes[height]`, valid from
   any later block), so PollingPlace (and ProposerSet, which follows it) hold the validators staked
   on origin.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mosaic_tui import settings
from mosaic_tui.chain import proofs
from mosaic_tui.chain.header import verified_header
from mosaic_tui.chain.rpc import RpcUnavailable, is_transient
from mosaic_tui.errors import MosaicError
from mosaic_tui.genesis import SYSTEM_ADDRESSES
from mosaic_tui.metablock import ZERO_HASH, Transition, Vote
from mosaic_tui.steps.common import kernel_hash_key
from mosaic_tui.validator.chains import Chain, Skipped, connect, open_key, sign_vote
from mosaic_tui.validator.config import NodeConfig
from mosaic_tui.validator.ledger import Ledger

MAX_REPORTS = 24  # headers per chain per pass
# Gas beyond the simulation: a vote that crosses 2/3 also justifies (and maybe finalises); the vote
# that commits a meta-block also advances Stake and opens the next kernel (more with many joiners).
REPORT_HEADROOM = 40_000
VOTE_HEADROOM = 200_000
COMMIT_HEADROOM = 1_500_000
# Set by the devnet that starts the node: anvil is no AuRa engine, so a validator plays the engine's
# finalizeChange system call once a new proposer set was signalled.
DEVNET_ENGINE_ENV = "MOSAIC_TUI_DEVNET_ENGINE"
DEVNET_GONE_ENV = "MOSAIC_TUI_DEVNET_GONE_SECONDS"  # how long a devnet's node outlives its chains (default 60 s)
VERIFY_VOTE = "verifyVote(bytes32,bytes32,bytes32,uint256,uint256,uint8,bytes32,bytes32)"


@dataclass
class Status:
    """What the node last did, for its log and for tests."""

    passes: int = 0
    votes: dict[str, int] = field(default_factory=dict)
    committed: int = 0
    proven: int = 0


class ValidatorNode:
    def __init__(self, config: NodeConfig, *, log: Callable[[str], None] = print,
                 stop: threading.Event | None = None) -> None:
        self.config = config
        self._log = log
        self.stop = stop or threading.Event()
        self.ledger = Ledger(config.ledger_path)
        self.status = Status()
        self._said: dict[str, str] = {}
        self._first_seen: dict[str, float] = {}
        self._kernel_blocks: dict[int, int] = {}
        self._kernel_logs: dict[int, Any] = {}
        self._gas_limit: int | None = None  # OriginCore.maxAccumulateGasLimit, read once
        self._listed: list[str] | None = None

    # -- set-up ---------------------------------------------------------------------------------------

    def open(self) -> None:
        config = self.config
        base = config.env_file.parent
        origin_signer = open_key(config.origin_key, "MOSAIC_ORIGIN_VALIDATOR_KEY_REF", config.origin_validator,
                                 config.origin_password_file, base)
        auxiliary_signer = open_key(config.auxiliary_key, "MOSAIC_AUXILIARY_VALIDATOR_KEY_REF",
                                    config.auxiliary_validator, config.auxiliary_password_file, base)
        self.ledger.lock()
        origin = connect("origin", config.origin_endpoint, config.origin_chain_id, self._waiting)
        auxiliary = connect("auxiliary", config.auxiliary_endpoint, config.auxiliary_chain_id, self._waiting)
        self.origin = Chain("origin", origin, origin_signer, self.ledger, legacy=False)
        self.aux = Chain("auxiliary", auxiliary, auxiliary_signer, self.ledger, legacy=True)
        self.me = auxiliary_signer.address
        self.stores = {"origin": self.aux.contract("OriginBlockStore", config.origin_block_store),
                       "auxiliary": self.aux.contract("AuxiliaryBlockStore", config.auxiliary_block_store)}
        self.polling_place = self.aux.contract("PollingPlace", config.polling_place)
        self.gateway = self.aux.contract("KernelGateway", config.kernel_gateway)
        self.proposer_set = self.aux.contract("ProposerSet", SYSTEM_ADDRESSES["ProposerSet"])
        self.devnet_engine = bool(settings.get(DEVNET_ENGINE_ENV))
        self.core = self.origin.contract("OriginCore", config.origin_core)
        self.identifiers = {"auxiliary": config.core_identifier,
                            "origin": bytes(self.aux.call(self.polling_place.functions.originCoreIdentifier()))}
        self.epochs = {name: int(self.aux.call(store.functions.epochLength())) for name, store in self.stores.items()}
        for chain in (self.origin, self.aux):
            for note in chain.settle():
                self.say("resume", note)

    def close(self) -> None:
        self.ledger.unlock()

    # -- the loop -------------------------------------------------------------------------------------

    @property
    def interval(self) -> float:
        return float(min(self.config.origin_polling_interval, self.config.auxiliary_polling_interval))

    def run(self) -> None:
        self.say("start", f"validator {self.me} (origin {self.origin.signer.address}); ledger {self.ledger.path}")
        while not self.stop.is_set():
            sent_before = self.ledger.writes
            self.tick()
            if self.devnet_engine and self._devnet_gone():
                gone = settings.get(DEVNET_GONE_ENV)
                self.say("stop", f"the devnet's chains have not answered for {gone:.0f} s; a devnet's node has "
                                 "nothing left to do, stopping")
                break
            # A pass that sent something may have more to do at once (the next checkpoint, a vote on a
            # proposal); an idle one waits for the next block.
            self.stop.wait(0.2 if self.ledger.writes != sent_before else self.interval)
        self.say("stop", "stopped cleanly")

    def _devnet_gone(self) -> bool:
        """A devnet's node outlives its chains only by mistake (stopped without `devnet down`)."""
        from mosaic_tui import devnet

        if devnet.answers(self.config.auxiliary_endpoint) or devnet.answers(self.config.origin_endpoint):
            self._first_seen.pop("devnet gone", None)
            return False
        return self._waited("devnet gone", settings.get(DEVNET_GONE_ENV))

    def tick(self) -> None:
        duties: list[tuple[str, Callable[[], None]]] = [
            ("settle", self.settle),
            ("report", self.report_both),
            ("vote", self.vote_both),
            ("commit", self.commit),
            ("prove kernel", self.prove_kernel),
            ("follow", self.follow_kernel),
        ]
        self._listed = None
        for name, duty in duties:
            if self.stop.is_set():
                return
            try:
                duty()
            except Skipped as skipped:
                self.say(name, f"skipped: {skipped.reason}", once=True)
            except RpcUnavailable as error:
                self.say(name, f"waiting: {error}", once=True)
                return
            except MosaicError as error:
                self.say(name, f"failed: {error}", once=True)
            except Exception as error:  # one bad answer must not end the node
                if is_transient(error):
                    self.say(name, f"waiting for the RPC ({type(error).__name__})", once=True)
                    return
                self.say(name, f"failed: {type(error).__name__}: {error}", once=True)
        self.status.passes += 1

    # -- logging --------------------------------------------------------------------------------------

    def say(self, duty: str, text: str, *, once: bool = False) -> None:
        if once and self._said.get(duty) == text:
            return
        self._said[duty] = text
        stamp = time.strftime("%H:%M:%S", time.gmtime())
        self._log(f"{stamp} {self.config.name} {duty}: {text}")

    def _waiting(self, text: str) -> None:
        self.say("rpc", text, once=True)

    # -- helpers --------------------------------------------------------------------------------------

    def _validators(self) -> list[str]:
        """PollingPlace's validators, read once per pass."""
        if self._listed is None:
            listed, _ = self.aux.call(self.polling_place.functions.getValidators())
            self._listed = [str(address) for address in listed]
        return self._listed

    def _rank(self) -> int:
        listed = self._validators()
        lowered = [address.lower() for address in listed]
        return lowered.index(self.me.lower()) if self.me.lower() in lowered else len(lowered)

    def _source_chain(self, which: str) -> Chain:
        return self.origin if which == "origin" else self.aux

    def _waited(self, key: str, seconds: float) -> bool:
        """True once `key` has been seen for at least `seconds` (first call starts its clock)."""
        first = self._first_seen.setdefault(key, time.monotonic())
        return time.monotonic() - first >= seconds

    def _stall_seconds(self, which: str) -> float:
        interval = self.config.origin_polling_interval if which == "origin" else self.config.auxiliary_polling_interval
        return 2 * self.epochs[which] * interval + 5

    # -- duties ---------------------------------------------------------------------------------------

    def settle(self) -> None:
        for chain in (self.origin, self.aux):
            if chain.ledger.pending(chain.name):
                for note in chain.settle():
                    self.say("resume", note)

    def report_both(self) -> None:
        """New headers of both chains, in one round of auxiliary transactions (one block's wait)."""
        batches = {which: self._report_calls(which) for which in ("origin", "auxiliary")}
        calls = [call for found, _ in batches.values() for call in found]
        if not calls:
            return
        gas = max(self.aux.estimate(found[0][1]) for found, _ in batches.values() if found) + REPORT_HEADROOM
        sent = self.aux.wait(self.aux.send(calls, gas=gas))
        offset = 0
        for which, (found, first) in batches.items():
            mine = sent[offset:offset + len(found)]
            offset += len(found)
            if not found:
                continue
            ok = sum(1 for item in mine if item.receipt is not None and item.receipt["status"] == 1)
            used = sum(int(item.receipt["gasUsed"]) for item in mine if item.receipt is not None)
            self.say(f"report {which}", f"reported {which} blocks {first}-{first + len(found) - 1} ({ok} of "
                                        f"{len(found)} mined, {used} gas)")

    def report(self, which: str) -> None:
        """One chain's new headers (tests and tools; a pass reports both at once)."""
        found, first = self._report_calls(which)
        if found:
            self.aux.wait(self.aux.send(found, headroom=REPORT_HEADROOM))
            self.say(f"report {which}", f"reported {which} blocks {first}-{first + len(found) - 1}")

    def _report_calls(self, which: str) -> tuple[list[tuple[str, Any]], int]:
        """The reportBlock calls this validator owes for one chain now, and the first block's number."""
        source, store = self._source_chain(which), self.stores[which]
        head = int(source.head()["number"])
        stored = bytes(self.aux.call(store.functions.head()))
        height = int(self.aux.call(store.functions.heightOf(stored)))
        floor = int(self.aux.call(store.functions.heightOf(store.functions.initialBlockHash().call())))
        # Back to the last block of the canonical chain the store holds (a forged or reorged head is not).
        while height > floor:
            canonical = bytes(source.block(height)["hash"])
            if canonical == stored or self.aux.call(store.functions.isReported(canonical)):
                break
            height -= 1
        rank = self._rank()
        if rank > 0:
            # The first validator reports; the others only when the store has stood still for a while.
            still = self._first_seen.get(f"store {which}")
            if still is None or self._said.get(f"store head {which}") != stored.hex():
                self._said[f"store head {which}"] = stored.hex()
                self._first_seen[f"store {which}"] = time.monotonic()
                return [], 0
            if time.monotonic() - still < rank * self._stall_seconds(which):
                return [], 0
        last = min(head, height + MAX_REPORTS)
        calls = [(f"report {which} block {number}", store.functions.reportBlock(verified_header(source.block(number))))
                 for number in range(height + 1, last + 1)]
        return calls, height + 1

    def _justified_source(self, which: str, head: int) -> tuple[bytes, int]:
        """The highest justified checkpoint of the canonical chain above the latest finalised one
        (found from the top down: it is usually the newest checkpoint or the one before)."""
        source, store, epoch = self._source_chain(which), self.stores[which], self.epochs[which]
        final = bytes(self.aux.call(store.functions.latestFinalised()))
        final_height = int(self.aux.call(store.functions.latestFinalisedHeight()))
        height = (head // epoch) * epoch
        while height > final_height:
            candidate = bytes(source.block(height)["hash"])
            if self.aux.call(store.functions.isJustified(candidate)):
                return candidate, height
            height -= epoch
        return final, final_height

    def _last_targets(self, core: bytes, listed: list[str]) -> dict[str, int]:
        """Every validator's last target height on one chain, in one JSON-RPC batch request."""
        from mosaic_tui.chain.batch import AbiFunction, BatchClient, RpcFailure, call_request
        from mosaic_tui.contracts import load_artifact

        function = AbiFunction.from_abi(load_artifact("PollingPlace")["abi"], "lastTargetHeight")
        requests = [call_request(self.config.polling_place, function, (core, address), "latest") for address in listed]

        def read() -> list[Any]:
            with BatchClient(self.config.auxiliary_endpoint) as client:
                return list(client.run(requests))

        answers = self.aux.read("reading the validators' last votes", read)
        found = {}
        for address, answer in zip(listed, answers, strict=True):
            if isinstance(answer, RpcFailure):
                raise Skipped(f"lastTargetHeight could not be read ({answer.message})")
            found[address] = int(function.decode(answer)[0])
        return found

    def _aux_transition(self, target: bytes, target_height: int, block: Any) -> bytes:
        """The transition an auxiliary vote names: everything a meta-block of this checkpoint would hold
        that the auxiliary chain alone determines (the origin fields are OriginCore's business)."""
        store = self.stores["auxiliary"]
        transition = Transition(self.identifiers["auxiliary"], bytes(self.aux.call(store.functions.activeKernelHash())),
                                target_height // self.epochs["auxiliary"], target,
                                int(self.aux.call(store.functions.accumulatedGas(target))), 0, ZERO_HASH,
                                bytes(block["transactionsRoot"]))
        return transition.hash()

    def vote_both(self) -> None:
        """Both chains' checkpoint votes, signed and journalled, then sent in one round."""
        heights = {which: self._sign_vote(which) for which in ("auxiliary", "origin")}
        due = [(which, height) for which, height in heights.items() if height is not None]
        if due:
            self._send_votes(due)

    def vote(self, which: str) -> None:
        height = self._sign_vote(which)
        if height is not None:
            self._send_votes([(which, height)])

    def _sign_vote(self, which: str) -> int | None:
        """Sign (and journal) this validator's next vote on `which`'s checkpoints; its target height."""
        source_chain, store, epoch = self._source_chain(which), self.stores[which], self.epochs[which]
        core = self.identifiers[which]
        key = core.hex()
        place = self.polling_place
        listed = self._validators()
        if self.me.lower() not in [address.lower() for address in listed]:
            self.say(f"vote {which}", "not a validator in PollingPlace (yet); not voting", once=True)
            return None
        on_chain = self._last_targets(core, listed)
        mine_on_chain = next(h for address, h in on_chain.items() if address.lower() == self.me.lower())
        signed_max = self.ledger.max_target(key)
        if signed_max > mine_on_chain:
            # Signed but not counted: send that very signature again (never a new one at or below it).
            self._resend_vote(which, signed_max)
        mine = max(mine_on_chain, signed_max)
        highest = max(on_chain.values())
        head = int(source_chain.head()["number"])
        source, source_height = self._justified_source(which, head)
        natural = (source_height // epoch + 1) * epoch
        if highest < natural:
            target_height = natural
            # Behind by more than two checkpoints (a restart, slow passes): link straight to the newest
            # reported checkpoint, and finalise it with the next link, instead of one epoch per pass.
            reported = int(self.aux.call(store.functions.heightOf(self.aux.call(store.functions.head()))))
            newest = (min(reported, head) // epoch) * epoch
            if newest >= natural + 2 * epoch:
                target_height = newest
        elif mine < highest:
            target_height = highest  # join the others
        else:
            previous = self.ledger.vote(key, mine) or {}
            kernel_changed = previous.get("meta_block_height") not in (None, int(self.aux.call(place.functions.metaBlockHeight())))
            stalled = time.time() - float(previous.get("signed_at", 0)) > self._stall_seconds(which)
            if not (kernel_changed or stalled):
                return None
            target_height = (mine // epoch + 1) * epoch
        if target_height <= mine or target_height <= source_height or target_height > head:
            return None
        block = source_chain.block(target_height)
        target = bytes(block["hash"])
        if not self.aux.call(store.functions.isReported(target)):
            return None
        transition = self._aux_transition(target, target_height, block) if which == "auxiliary" else ZERO_HASH
        ballot = Vote(core, transition, source, target, source_height, target_height)
        v, r, s = sign_vote(self.aux.signer, self.aux.w3, ballot, self.config.auxiliary_chain_id,
                            self.config.polling_place)
        self.ledger.record_vote(key, target_height, {
            "source": "0x" + source.hex(), "target": "0x" + target.hex(), "source_height": source_height,
            "transition": "0x" + transition.hex(), "v": v, "r": "0x" + r.hex(), "s": "0x" + s.hex(),
            "meta_block_height": int(self.aux.call(place.functions.metaBlockHeight()))})
        self.ledger.save()  # the signature is on disk before it leaves this process, even to our own node
        return target_height

    def _vote_call(self, which: str, target_height: int) -> Any:
        entry = self.ledger.vote(self.identifiers[which].hex(), target_height)
        assert entry is not None
        return self.polling_place.functions.vote(
            self.identifiers[which], bytes.fromhex(entry["transition"][2:]), bytes.fromhex(entry["source"][2:]),
            bytes.fromhex(entry["target"][2:]), entry["source_height"], target_height, entry["v"],
            bytes.fromhex(entry["r"][2:]), bytes.fromhex(entry["s"][2:]))

    def _send_vote(self, which: str, target_height: int) -> None:
        self._send_votes([(which, target_height)])

    def _send_votes(self, due: list[tuple[str, int]]) -> None:
        calls = [(f"vote {which} {height}", self._vote_call(which, height)) for which, height in due]
        sent = self.aux.wait(self.aux.send(calls, headroom=VOTE_HEADROOM))
        for (which, target_height), item in zip(due, sent, strict=True):
            receipt = item.receipt
            entry = self.ledger.vote(self.identifiers[which].hex(), target_height) or {}
            store = self.stores[which]
            state = "pending"
            if receipt is not None:
                justified = store.events.CheckpointJustified().process_receipt(receipt, errors=_discard())
                finalised = store.events.CheckpointFinalised().process_receipt(receipt, errors=_discard())
                state = "justified" if justified else "counted" if receipt["status"] == 1 else "reverted"
                if finalised:
                    state += f", finalised {finalised[0].args.height}"
            self.status.votes[which] = target_height
            self.say(f"vote {which}", f"voted {entry.get('source_height')} -> {target_height} ({state})")

    def _resend_vote(self, which: str, target_height: int) -> None:
        purpose = f"vote {which} {target_height}"
        if any(p["purpose"] == purpose for p in self.ledger.pending("auxiliary")):
            return  # its transaction is on its way (settle rebroadcasts it)
        try:
            self._send_vote(which, target_height)
        except Skipped as skipped:
            self.say(f"vote {which}", f"the signed vote at {target_height} can no longer count ({skipped.reason}); "
                                      "waiting for the next checkpoint", once=True)

    # -- meta-blocks on origin --------------------------------------------------------------------------

    def _kernel_opened_block(self, height: int) -> int | None:
        if height not in self._kernel_blocks:
            logs = self.origin.read("reading KernelOpened", lambda: self.core.events.KernelOpened.get_logs(
                from_block=0, argument_filters={"height": height}))
            if not logs:
                return None
            self._kernel_blocks[height] = int(logs[-1].blockNumber)
        return self._kernel_blocks[height]

    def _valid(self, transition: Any, open_hash: bytes) -> bool:
        (core, kernel_hash, dynasty, aux_hash, gas, origin_dynasty, origin_hash, root) = transition
        aux_store, origin_store = self.stores["auxiliary"], self.stores["origin"]
        if bytes(core) != self.identifiers["auxiliary"] or bytes(kernel_hash) != open_hash:
            return False
        aux_hash, origin_hash = bytes(aux_hash), bytes(origin_hash)
        if not self.aux.call(aux_store.functions.isFinalised(aux_hash)):
            return False
        if int(self.aux.call(aux_store.functions.heightOf(aux_hash))) // self.epochs["auxiliary"] != dynasty:
            return False
        if int(self.aux.call(aux_store.functions.accumulatedGas(aux_hash))) != gas:
            return False
        if bytes(self.aux.block(aux_hash)["transactionsRoot"]) != bytes(root):
            return False
        if not self.aux.call(origin_store.functions.isFinalised(origin_hash)):
            return False
        return int(self.aux.call(origin_store.functions.heightOf(origin_hash))) == origin_dynasty

    def commit(self) -> None:
        core = self.core
        open_height = int(self.origin.call(core.functions.openKernelHeight()))
        open_hash = bytes(self.origin.call(core.functions.openKernelHash()))
        if open_hash == ZERO_HASH:
            return
        if bytes(self.aux.call(self.gateway.functions.getActiveKernelHash())) != open_hash:
            self.say("commit", f"meta-block {open_height} waits until its kernel is proven on the auxiliary chain",
                     once=True)
            return
        existing = self.ledger.origin_vote(open_height)
        if existing is not None:
            transition_hash = bytes.fromhex(existing["transition"][2:])
            if self.origin.call(core.functions.hasVoted(transition_hash, self.me)):
                return
            if any(p["purpose"] == f"commit {open_height}" for p in self.ledger.pending("origin")):
                return
            self._send_origin_vote(open_height)
            return
        head = self.origin.call(core.functions.head())
        aux_store = self.stores["auxiliary"]
        final = bytes(self.aux.call(aux_store.functions.latestFinalised()))
        final_height = int(self.aux.call(aux_store.functions.latestFinalisedHeight()))
        epoch = self.epochs["auxiliary"]
        if final_height // epoch <= int(head[3]) or final_height == 0:
            return
        opened = self._kernel_opened_block(open_height) or 0
        logs = self.origin.read("reading proposals", lambda: core.events.BlockProposed.get_logs(
            from_block=opened, argument_filters={"height": open_height}))
        valid: list[tuple[int, bytes]] = []
        for log in logs:
            transition_hash = bytes(log.args.transitionHash)
            transition, _, _ = self.origin.call(core.functions.getProposal(transition_hash))
            if self._valid(transition, open_hash):
                valid.append((int(transition[2]), transition_hash))
        if not valid:
            if not (self._rank() == 0 or self._waited(f"propose {open_height}", self._stall_seconds("auxiliary"))):
                return
            chosen = self._checkpoint_within_gas_limit(head, final, final_height)
            if chosen is None:
                return
            final, final_height = chosen
            proposed = self._propose(open_height, final, final_height)
            if proposed is None:
                return
            valid = [(final_height // epoch, proposed)]  # and vote for it at once
        # Everyone picks the same one: the newest checkpoint, then the lowest hash.
        dynasty, transition_hash = max(valid, key=lambda item: (item[0], -int.from_bytes(item[1], "big")))
        transition, _, _ = self.origin.call(core.functions.getProposal(transition_hash))
        target, target_height = bytes(transition[3]), int(transition[2]) * epoch
        source_height = max(0, target_height - epoch)
        source = bytes(self.aux.block(source_height)["hash"])
        ballot = Vote(self.identifiers["auxiliary"], transition_hash, source, target, source_height, target_height)
        v, r, s = sign_vote(self.aux.signer, self.aux.w3, ballot, self.config.origin_chain_id, self.config.origin_core)
        self.ledger.record_origin_vote(open_height, {
            "transition": "0x" + transition_hash.hex(), "source": "0x" + source.hex(), "target": "0x" + target.hex(),
            "source_height": source_height, "target_height": target_height, "v": v, "r": "0x" + r.hex(),
            "s": "0x" + s.hex()})
        self.ledger.save()
        self._send_origin_vote(open_height)

    def _checkpoint_within_gas_limit(self, head: Any, final: bytes, final_height: int) -> tuple[bytes, int] | None:
        """The newest finalised auxiliary checkpoint a meta-block may commit: OriginCore refuses one whose gas
        since the last meta-block is over its `maxAccumulateGasLimit` (one epoch of full blocks), which the
        newest checkpoint can be after the votes fell behind. Then the newest earlier finalised checkpoint that
        fits; None (and a sentence) when not even the first one after the last meta-block does."""
        aux_store, epoch = self.stores["auxiliary"], self.epochs["auxiliary"]
        if self._gas_limit is None:
            self._gas_limit = int(self.origin.call(self.core.functions.maxAccumulateGasLimit()))
        base, head_dynasty = int(head[4]), int(head[3])

        def gas_since(block_hash: bytes) -> int:
            return int(self.aux.call(aux_store.functions.accumulatedGas(block_hash))) - base

        over = gas_since(final)
        if over <= self._gas_limit:
            return final, final_height
        logs = self.aux.read("reading finalised checkpoints", lambda: aux_store.events.CheckpointFinalised.get_logs(
            from_block=head_dynasty * epoch))
        candidates = sorted({(int(log.args.height), bytes(log.args.blockHash)) for log in logs
                             if head_dynasty < int(log.args.height) // epoch and int(log.args.height) < final_height},
                            reverse=True)
        for height, block_hash in candidates:
            if gas_since(block_hash) <= self._gas_limit:
                self.say("commit", f"auxiliary checkpoint {final_height} is {over} gas past the last "
                                   f"meta-block, over OriginCore's limit of {self._gas_limit}: proposing checkpoint "
                                   f"{height} first", once=True)
                return block_hash, height
        first = candidates[-1][0] if candidates else final_height
        self.say("commit", f"no meta-block can be proposed: the first finalised auxiliary checkpoint after the last "
                           f"meta-block ({first}) is over OriginCore's limit of {self._gas_limit} gas since it",
                 once=True)
        return None

    def _propose(self, height: int, final: bytes, final_height: int) -> bytes | None:
        origin_store = self.stores["origin"]
        origin_final = bytes(self.aux.call(origin_store.functions.latestFinalised()))
        origin_height = int(self.aux.call(origin_store.functions.latestFinalisedHeight()))
        block = self.aux.block(final)
        call = self.core.functions.proposeBlock(
            height, final_height // self.epochs["auxiliary"], final,
            int(self.aux.call(self.stores["auxiliary"].functions.accumulatedGas(final))),
            origin_height, origin_final, bytes(block["transactionsRoot"]))
        sent = self.origin.wait(self.origin.send([(f"propose {height}", call)]))
        receipt = sent[0].receipt
        self.say("commit", f"proposed meta-block {height} at auxiliary checkpoint {final_height} "
                           f"({'mined' if receipt is not None else 'pending'})")
        if receipt is None or receipt["status"] != 1:
            return None
        (event,) = self.core.events.BlockProposed().process_receipt(receipt, errors=_discard())
        return bytes(event.args.transitionHash)

    def _send_origin_vote(self, height: int) -> None:
        entry = self.ledger.origin_vote(height)
        assert entry is not None
        call = self.core.get_function_by_signature(VERIFY_VOTE)(
            bytes.fromhex(entry["transition"][2:]), bytes.fromhex(entry["source"][2:]),
            bytes.fromhex(entry["target"][2:]), entry["source_height"], entry["target_height"], entry["v"],
            bytes.fromhex(entry["r"][2:]), bytes.fromhex(entry["s"][2:]))
        sent = self.origin.wait(self.origin.send([(f"commit {height}", call)], headroom=COMMIT_HEADROOM))
        receipt = sent[0].receipt
        committed = bool(receipt is not None and
                         self.core.events.MetaBlockCommitted().process_receipt(receipt, errors=_discard()))
        if committed:
            self.status.committed += 1
        self.say("commit", f"voted for meta-block {height} at auxiliary checkpoint {entry['target_height']}"
                           + (" (committed; kernel " + str(height + 1) + " opens)" if committed else ""))

    # -- kernels on the auxiliary chain -------------------------------------------------------------------

    def prove_kernel(self) -> None:
        core, gateway = self.core, self.gateway
        open_hash = bytes(self.origin.call(core.functions.openKernelHash()))
        active_hash = bytes(self.aux.call(gateway.functions.getActiveKernelHash()))
        if open_hash in (active_hash, ZERO_HASH):
            return
        want = 0 if active_hash == ZERO_HASH else int(self.aux.call(gateway.functions.activeKernelHeight())) + 1
        if want not in self._kernel_logs:
            logs = self.origin.read("reading KernelOpened", lambda: core.events.KernelOpened.get_logs(
                from_block=0, argument_filters={"height": want}))
            if not logs:
                return
            self._kernel_logs[want] = logs[-1]
        opened = self._kernel_logs[want]
        final_height = int(self.aux.call(self.stores["origin"].functions.latestFinalisedHeight()))
        if final_height < int(opened.blockNumber):
            self.say("prove kernel", f"kernel {want} opened in origin block {opened.blockNumber}; waiting for an "
                                     f"origin checkpoint at or above it to be final (now {final_height})", once=True)
            return
        if self._rank() != 0 and not self._waited(f"prove {want}", self._stall_seconds("origin")):
            return
        # OriginCore keeps every kernel's hash (kernelHashes[height]), so a kernel is provable from any later
        # finalised origin block, even once the next kernel has replaced it as the open one.
        key = "0x" + kernel_hash_key(want).hex()
        proof = self.origin.read("reading a proof", lambda: self.origin.w3.eth.get_proof(
            self.config.origin_core, [key], final_height))
        if bytes(self.aux.call(gateway.functions.originCoreStorageRoot(final_height))) == ZERO_HASH:
            account, nodes = proofs.account_proof_args(proof)
            self.aux.wait(self.aux.send([(f"prove origin core {final_height}",
                                          gateway.functions.proveOriginCore(account, nodes, final_height))]))
        call = gateway.functions.proveBlockOpening(want, bytes(opened.args.parent), list(opened.args.updatedValidators),
                                                   list(opened.args.updatedWeights), proofs.storage_proof_nodes(proof),
                                                   final_height)
        sent = self.aux.wait(self.aux.send([(f"prove kernel {want}", call)]))
        ok = sent[0].receipt is not None and sent[0].receipt["status"] == 1
        if ok:
            self.status.proven += 1
        self.say("prove kernel", f"proved kernel {want} at origin block {final_height} "
                                 f"({'active' if ok else 'not mined yet'})")


    # -- the sealers follow the active kernel -----------------------------------------------------------

    def follow_kernel(self) -> None:
        """ProposerSet.followKernel once PollingPlace's validators differ from the sealers (after a
        kernel with joiners was proven); the AuRa engine enacts the signalled set."""
        place_set = self.proposer_set
        if self.devnet_engine and self._rank() == 0 and not self.aux.call(place_set.functions.finalized()):
            from types import SimpleNamespace

            from mosaic_tui.steps.auxiliary import devnet_engine_finalize

            price = int(self.aux.read("reading the gas price", lambda: self.aux.w3.eth.gas_price))
            if devnet_engine_finalize(self.config.auxiliary_endpoint,
                                      SimpleNamespace(auxiliary=SimpleNamespace(gas_price=price))):
                self.say("follow", "the devnet's engine enacted the signalled proposer set (finalizeChange)")
            return
        if not self.aux.call(place_set.functions.kernelSetDiffers()):
            return
        if self._rank() != 0 and not self._waited("follow", self._stall_seconds("auxiliary")):
            return
        sent = self.aux.wait(self.aux.send([("follow kernel", place_set.functions.followKernel())]))
        listed = self._validators()
        self.say("follow", f"signalled {len(listed)} sealers to ProposerSet (followKernel, "
                           f"{'mined' if sent[0].receipt is not None else 'pending'})")


def _discard() -> Any:
    from web3.logs import DISCARD

    return DISCARD
