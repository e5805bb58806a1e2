"""Command line entry point: the wizard by default, and the headless subcommands listed in README.md (design: docs/design.md).

Imports stay inside the command functions so `mosaic-tui --help` and the first painted screen do
not pay for web3 or the compiler. Every operator-facing error is a MosaicError: printed as one
sentence with its exit code (2 for bad input), never as a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mosaic_tui.errors import MosaicError, report

if TYPE_CHECKING:
    from mosaic_tui.journal import Journal
    from mosaic_tui.plan import Plan

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


def _say(text: str) -> None:
    print(text, flush=True)


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a port number") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port {port} is outside 1-65535")
    return port


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return value


def _block_time(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of seconds") from None
    if not 0 < value <= 3600:
        raise argparse.ArgumentTypeError(f"{text} s is not a block time between 0 and 3600 seconds")
    return value


def _confirmations(text: str) -> int | str:
    if text.strip().lower() in ("finalized", "finalised"):
        return "finalized"
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of blocks or 'finalized'") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} must be 0 or more")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mosaic-tui",
        description="Deploy an OpenST Mosaic meta-blockchain: origin contracts, a PoA auxiliary chain "
        "and its staked validators. With no command, opens the wizard.",
    )
    parser.add_argument("--devnet", action="store_true", help="start a local devnet and open the wizard on it")
    parser.add_argument("--plan", type=Path, default=Path("mosaic-plan.toml"), help="plan file the wizard loads and saves")
    parser.add_argument("--origin-port", type=_port, default=8545, help="with --devnet: origin port (default 8545)")
    parser.add_argument("--auxiliary-port", type=_port, default=8546,
                        help="with --devnet: auxiliary port (default 8546)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    tools = commands.add_parser("tools", help="install or locate the pinned anvil and solc-js (and geth for the tests)")
    tools_commands = tools.add_subparsers(dest="tools_command", metavar="ACTION", required=True)
    tools_commands.add_parser("install", help="install anvil and solc-js from npm into the user cache, and the "
                                              "tests' ganache (npm) and geth (go install, where Go is present)")
    tools_commands.add_parser("path", help="print where the tools are")

    contracts = commands.add_parser("contracts", help="compile the Solidity contracts or check the artifacts")
    contracts_commands = contracts.add_subparsers(dest="contracts_command", metavar="ACTION", required=True)
    for name, text in (("build", "compile contracts/ into the committed artifacts"),
                       ("check", "recompile and fail if an artifact does not match its source")):
        sub = contracts_commands.add_parser(name, help=text)
        sub.add_argument("--sources", type=Path, default=None, help="contracts folder (default: the checkout's)")
        sub.add_argument("--artifacts", type=Path, default=None, help="artifacts folder (default: the package's)")

    deploy = commands.add_parser("deploy", help="deploy a plan headless (or a fresh devnet with --devnet)")
    deploy.add_argument("plan", nargs="?", type=Path, help="the plan file (not with --devnet)")
    deploy.add_argument("--devnet", action="store_true", help="start a local devnet and deploy a generated plan on it")
    deploy.add_argument("--validators", type=_positive_int, default=4, help="validators of the devnet plan (default 4)")
    deploy.add_argument("--block-time", type=_block_time, default=None,
                        help="devnet seconds per block (default 1, or a block per transaction with --no-validators)")
    deploy.add_argument("--confirmations", type=_confirmations, default=None,
                        help="devnet: origin blocks on top of the set-up block before it is used, or 'finalized' "
                             "(default 0)")
    deploy.add_argument("--out", type=Path, default=Path("out"), help="devnet: where the plan, journal and exports go")
    deploy.add_argument("--origin-port", type=_port, default=8545, help="devnet origin port (default 8545)")
    deploy.add_argument("--auxiliary-port", type=_port, default=8546, help="devnet auxiliary port (default 8546)")
    deploy.add_argument("--no-validators", action="store_true",
                        help="devnet: do not start a validator node per validator")
    deploy.add_argument("--yes", action="store_true", help="send without asking after the preflight")
    deploy.add_argument("--dry-run", action="store_true", help="run the preflight, show the plan's transactions, send nothing")
    deploy.add_argument("--max-inflight", type=_positive_int, default=None,
                        help="at most N unconfirmed transactions at once (default: no limit)")

    status = commands.add_parser("status", help="the validators of a deployment: stakes, balances, membership")
    status.add_argument("plan", type=Path)
    status.add_argument("--once", action="store_true", help="print one table and exit (default on a non-terminal)")
    status.add_argument("--watch", action="store_true", help="open the live status panel")
    status.add_argument("--json", action="store_true", help="with --once: the snapshot as JSON, for scripts")

    export = commands.add_parser("export", help="write rum.toml, the env files and deployment.toml from the journal")
    export.add_argument("plan", type=Path)
    export.add_argument("--out", type=Path, default=None, help="folder for the files (default: the plan's out_dir)")
    export.add_argument("--validator", type=_positive_int, default=None,
                        help="only validator N's own files (N counts from 1), on its machine, with its own keys")
    export.add_argument("--key", default=None, help="with --validator: your origin key reference "
                        "(default $MOSAIC_TUI_VALIDATOR_KEY)")
    export.add_argument("--auxiliary-key", default=None, help="with --validator: your auxiliary key reference "
                        "(default $MOSAIC_TUI_VALIDATOR_AUXILIARY_KEY)")
    export.add_argument("--deployment", type=Path, default=None, help="with --validator and no journal here: the "
                        "coordinator's deployment.toml (default: the plan's out_dir)")

    validator = commands.add_parser("validator", help="a validator's own commands: its stake, its node (our rum)")
    validator_commands = validator.add_subparsers(dest="validator_command", metavar="ACTION", required=True)
    stake = validator_commands.add_parser("stake", help="an external validator approves and stakes with its own key")
    stake.add_argument("plan", type=Path)
    who = stake.add_mutually_exclusive_group(required=True)
    who.add_argument("--validator", type=_positive_int, help="your position in the plan, counting from 1")
    who.add_argument("--address", help="your origin (or auxiliary) address")
    stake.add_argument("--ceremony", type=Path, default=None,
                       help="the coordinator's ceremony.toml (default: in the plan's out_dir)")
    stake.add_argument("--key", default=None, help="your origin key reference, keyring:<name> or keystore:<path> "
                       "(default $MOSAIC_TUI_VALIDATOR_KEY)")
    signing = stake.add_mutually_exclusive_group()
    signing.add_argument("--unsigned", type=Path, default=None, help="write the transactions unsigned (JSON) for "
                         "another signer, send nothing")
    signing.add_argument("--signed", type=Path, default=None, help="broadcast what the other signer produced")
    stake.add_argument("--yes", action="store_true", help="send without asking once the checks passed")

    validator_run = validator_commands.add_parser("run", help="run the validator node of one env file (rum-N-*.env)")
    validator_run.add_argument("env_file", type=Path, metavar="ENV_FILE")

    verify = commands.add_parser("verify", help="check a finished deployment on both chains")
    verify.add_argument("plan", type=Path)

    genesis = commands.add_parser("genesis", help="the auxiliary genesis: verify it against the plan and origin")
    genesis_commands = genesis.add_subparsers(dest="genesis_command", metavar="ACTION", required=True)
    genesis_verify = genesis_commands.add_parser(
        "verify", help="re-derive genesis.json and spec.json from the plan and the origin chain and compare")
    genesis_verify.add_argument("plan", type=Path)
    genesis_verify.add_argument("--genesis", type=Path, default=None,
                                help="the genesis.json to check (spec.json beside it); default: step 3's")
    genesis_verify.add_argument("--deployment", type=Path, default=None,
                                help="the coordinator's deployment.toml, for a validator without the journal "
                                     "(default: beside the genesis file, when the journal is not there)")

    devnet = commands.add_parser("devnet", help="the local origin (and auxiliary) anvil nodes")
    devnet_commands = devnet.add_subparsers(dest="devnet_command", metavar="ACTION", required=True)
    devnet_up = devnet_commands.add_parser("up", help="start the local origin node (state kept across restarts)")
    devnet_up.add_argument("--port", type=_port, default=8545, help="origin RPC port (default 8545)")
    devnet_up.add_argument("--chain-id", type=_positive_int, default=1337, help="origin chain id (default 1337)")
    devnet_up.add_argument("--block-time", type=_block_time, default=None, help="seconds per block (default: a block per transaction)")
    devnet_up.add_argument("--accounts", type=_positive_int, default=10, help="funded dev accounts (default 10)")
    for sub in (devnet_up, devnet_commands.add_parser("down", help="stop the nodes that 'devnet up' started"),
                devnet_commands.add_parser("status", help="show the devnet's nodes")):
        sub.add_argument("--dir", type=Path, default=None, help="devnet folder (default: the user data folder)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from mosaic_tui.keys import take_env_passphrases

    take_env_passphrases()  # before any child process (anvil, a node, rum) could inherit them
    try:
        from mosaic_tui.settings import check_environment

        for note in check_environment():  # a bad MOSAIC_TUI_* value stops here, naming the variable
            print(f"note: {note}", file=sys.stderr)
        if args.command is None:
            return _run_wizard(args)
        handler = {"tools": _tools, "contracts": _contracts, "devnet": _devnet, "deploy": _deploy,
                   "status": _status, "export": _export, "verify": _verify, "validator": _validator,
                   "genesis": _genesis}[args.command]
        return handler(args)
    except MosaicError as error:
        said = report(error)
        print(said.cli_text(), file=sys.stderr, flush=True)
        return said.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as error:
        from mosaic_tui.chain.rpc import rpc_error_sentence

        sentence = rpc_error_sentence(error)  # a node's error answer: its words, not web3's raw dict
        if sentence is None:
            raise
        from mosaic_tui.redact import redact

        print(f"error: a node refused a request: {redact(sentence)}", file=sys.stderr, flush=True)
        return EXIT_FAILED


def _deploy(args: argparse.Namespace) -> int:
    from mosaic_tui import deploy
    from mosaic_tui.console import ConsolePrinter, print_preflight
    from mosaic_tui.errors import InputError
    from mosaic_tui.events import Waiting

    if args.devnet == (args.plan is not None):
        raise InputError("plan", "give a plan file, or --devnet for a fresh local devnet (not both).")
    if args.confirmations is not None and not args.devnet:
        raise InputError("--confirmations", "applies to --devnet only; a plan file says origin.confirmations.")
    if args.confirmations not in (None, 0) and args.block_time is None:
        raise InputError("--confirmations", "the devnet mines a block only for a transaction unless --block-time "
                                             "is given, so no confirmation would ever come; add --block-time.")
    devnet_dir = None
    if args.devnet:
        from mosaic_tui import devnet
        from mosaic_tui.validator.launch import validators_wanted

        if args.block_time is None and not args.no_validators and validators_wanted():
            args.block_time = 1.0  # validators need chains that make blocks without being sent transactions
        devnet_dir = devnet.default_dir()
        node = devnet.up(devnet_dir, port=args.origin_port, block_time=args.block_time)
        plan_path = args.out / "mosaic-plan.toml"
        if plan_path.exists():
            _say(f"resuming the devnet deployment of {plan_path}")
        else:
            deploy.write_devnet_plan(plan_path, args.validators, origin_url=node.rpc_url, origin_chain_id=node.chain_id,
                                     auxiliary_url=f"http://127.0.0.1:{args.auxiliary_port}",
                                     block_time=max(1, int(args.block_time or 1)),
                                     confirmations=args.confirmations)
            _say(f"devnet plan with {args.validators} validators written to {plan_path}")
    else:
        plan_path = args.plan
    printer = ConsolePrinter()
    prepared = deploy.prepare(plan_path, on_wait=lambda text: printer(Waiting("-", text)), devnet_dir=devnet_dir)
    print_preflight(prepared.report)
    if args.dry_run:
        _say("dry run: nothing was sent")
        return EXIT_OK
    if not args.yes:
        if not sys.stdin.isatty():
            raise InputError("--yes", "this run cannot ask for confirmation (no terminal); pass --yes to send.")
        if input("Send these transactions? [y/N] ").strip().lower() not in ("y", "yes"):
            _say("nothing was sent")
            return EXIT_OK
    deploy.execute(prepared, printer, max_inflight=args.max_inflight)
    ctx = prepared.ctx
    _say(f"deployment complete: {printer.sent} transactions sent in this run; files in {ctx.out_dir}")
    _rum_commands(ctx.plan, ctx.journal.outputs(), ctx.out_dir)
    if args.devnet:
        from mosaic_tui.validator.launch import start_devnet_validators, validators_wanted

        if not args.no_validators and validators_wanted():
            assert devnet_dir is not None
            for entry in start_devnet_validators(devnet_dir, ctx.plan, ctx.out_dir):
                _say(f"{entry.name} node running: PID {entry.pid}, log {entry.log_path}")
        _say("the devnet keeps running for status, verify and rum; stop it with: mosaic-tui devnet down")
    return EXIT_OK


def _rum_commands(plan: Plan, outputs: dict[str, Any], out_dir: Path) -> None:
    """Step 5 (docs/design.md): show each validator's exact rum command (rum is started by the wizard, on request)."""
    import shlex
    import shutil

    from mosaic_tui import export

    where = ("rum is on PATH; start each validator's node with:" if shutil.which("rum") else
             "rum is not on PATH; each validator's node is our own (mosaic-tui validator run):")
    _say(where)
    for index in range(len(plan.validators)):
        _say("  " + shlex.join(export.rum_command(plan, outputs, index, out_dir=out_dir)))


def _loaded(plan_path: Path) -> tuple[Plan, Journal]:
    from mosaic_tui.journal import Journal, journal_path
    from mosaic_tui.plan import load_plan

    return load_plan(plan_path), Journal.load(journal_path(plan_path))


def _export(args: argparse.Namespace) -> int:
    from mosaic_tui import export

    if args.validator is not None:
        return _export_validator(args)
    plan, journal = _loaded(args.plan)
    out_dir = args.out or plan.out_path(args.plan)
    for path in export.write_exports(out_dir, plan, journal.outputs()):
        _say(f"wrote {path}")
    _rum_commands(plan, journal.outputs(), out_dir)
    return EXIT_OK


def _export_validator(args: argparse.Namespace) -> int:
    """A validator's own exports, on its machine: the journal if it is the coordinator's, else deployment.toml."""
    from mosaic_tui import export
    from mosaic_tui.journal import Journal, journal_path
    from mosaic_tui.plan import load_plan
    from mosaic_tui.validator_stake import AUXILIARY_KEY_ENV, KEY_ENV, own_key, pick_validator

    plan = load_plan(args.plan)
    index = pick_validator(plan, args.validator, None)
    out_dir = args.out or plan.out_path(args.plan)
    if args.deployment is None and journal_path(args.plan).is_file():
        outputs = Journal.load(journal_path(args.plan)).outputs()
    else:
        outputs = export.outputs_from_deployment_file(args.deployment or plan.out_path(args.plan) / export.DEPLOYMENT_FILE)
    paths = export.write_validator_exports(out_dir, plan, outputs, index, own_key(args.key, "--key", KEY_ENV),
                                           own_key(args.auxiliary_key, "--auxiliary-key", AUXILIARY_KEY_ENV))
    for path in paths:
        _say(f"wrote {path}")
    return EXIT_OK


def _validator(args: argparse.Namespace) -> int:
    if args.validator_command == "run":
        from mosaic_tui.validator.run import run

        return run(args.env_file)
    from mosaic_tui import validator_stake
    from mosaic_tui.console import ConsolePrinter
    from mosaic_tui.errors import InputError

    key = validator_stake.own_key(args.key, "--key", validator_stake.KEY_ENV)
    if key is None and args.unsigned is None and args.signed is None:
        raise InputError("--key", f"give your origin key's reference with --key (or {validator_stake.KEY_ENV}), or "
                                  "write the transactions for another signer with --unsigned FILE.")
    session = validator_stake.open_session(args.plan, number=args.validator, address=args.address,
                                           ceremony_file=args.ceremony, key=None if args.unsigned else key,
                                           passphrase=_passphrase_prompt())
    for line in validator_stake.describe(session):
        _say(line)
    if args.unsigned is not None:
        written = validator_stake.write_unsigned(session, args.unsigned)
        _say(f"wrote {len(written)} unsigned transactions to {args.unsigned}; nothing was sent. Sign them, then run "
             f"this command again with --signed FILE")
        return EXIT_OK
    if args.signed is not None:
        validator_stake.accept_signed(session, args.signed)
        _say(f"the signed transactions in {args.signed} are exactly the ones written with --unsigned")
    elif not args.yes:
        if not sys.stdin.isatty():
            raise InputError("--yes", "this run cannot ask for confirmation (no terminal); pass --yes to sign and send.")
        if input("Sign and send these transactions? [y/N] ").strip().lower() not in ("y", "yes"):
            _say("nothing was sent")
            return EXIT_OK
    printer = ConsolePrinter()
    validator_stake.run(session, printer)
    _say(f"validator {session.number} is done: its stake is approved and its gateway stake is on chain; the "
         "coordinator's step 2 sees them and goes on")
    return EXIT_OK


def _passphrase_prompt() -> Any:
    """The passphrase from the environment or a .passphrase file, else on a terminal a prompt without echo."""
    import getpass

    from mosaic_tui import keys
    from mosaic_tui.errors import InputError

    def ask(ref: Any) -> str:
        try:
            return keys.env_passphrase(ref, Path.cwd())
        except InputError:
            if not sys.stdin.isatty():
                raise
            return getpass.getpass(f"passphrase for {ref}: ")
    return ask


def _verify(args: argparse.Namespace) -> int:
    from mosaic_tui import verify

    plan, journal = _loaded(args.plan)
    checks = verify.run_checks(plan, journal.outputs(), journal)
    for check in checks:
        _say(f"{'pass' if check.ok else 'FAIL'}  {check.name}: {check.detail}")
    failed = [c for c in checks if not c.ok]
    _say(f"{len(checks) - len(failed)} passed, {len(failed)} failed")
    return EXIT_FAILED if failed else EXIT_OK


def _genesis(args: argparse.Namespace) -> int:
    from mosaic_tui import genesis_verify
    from mosaic_tui.chain.rpc import make_web3
    from mosaic_tui.errors import InputError
    from mosaic_tui.journal import Journal, journal_path
    from mosaic_tui.plan import load_plan

    plan = load_plan(args.plan)
    outputs = Journal.load(journal_path(args.plan)).outputs() if journal_path(args.plan).exists() else {}
    needed = ("initial_proposer", "origin_core", "ost_gateway", "setup_block_number", "setup_block_hash",
              "setup_state_root", "setup_timestamp", "gateway_stakes")
    path = args.genesis or Path(outputs.get("genesis_path") or plan.out_path(args.plan) / "genesis.json")
    w3 = make_web3(plan.origin.rpc)
    proofs_file = None
    if args.deployment is not None or any(key not in outputs for key in needed):
        deployment = args.deployment or path.with_name("deployment.toml")
        if not deployment.is_file():
            raise InputError("--deployment", f"no journal of this plan with the set-up block, and no {deployment}; "
                                             "give the coordinator's deployment.toml")
        try:
            outputs = genesis_verify.outputs_from_deployment(deployment, w3)
        except genesis_verify.GenesisMismatch as error:
            print(f"DIFFERS  {error}", file=sys.stderr, flush=True)
            return EXIT_FAILED
        beside = deployment.with_name(genesis_verify.PROOFS_FILE)
        proofs_file = beside if beside.is_file() else None
    try:
        verified = genesis_verify.verify(plan, outputs, path, w3, proofs_file)
    except genesis_verify.GenesisMismatch as error:
        print(f"DIFFERS  {error}", file=sys.stderr, flush=True)
        return EXIT_FAILED
    except genesis_verify.CannotCheck as error:
        print(f"CANNOT CHECK  {error}", file=sys.stderr, flush=True)
        return EXIT_FAILED
    _say(f"OK  {verified.genesis_path} and {verified.spec_path} are the genesis the plan and origin chain "
         f"give; genesis hash {verified.genesis_hash} (set-up block state from {verified.proofs})")
    return EXIT_OK


def _status(args: argparse.Namespace) -> int:
    from mosaic_tui import monitor

    plan, journal = _loaded(args.plan)
    if args.watch and sys.stdout.isatty():
        from mosaic_tui.app import MosaicApp

        MosaicApp(plan_path=args.plan, start_with_status=True).run()
        return EXIT_OK
    with monitor.plan_monitor(plan, journal.outputs()) as watcher:
        snapshot = watcher.snapshot()
    if args.json:
        import json

        _say(json.dumps(monitor.snapshot_json(snapshot), indent=2))
        return EXIT_OK
    _say(monitor.format_table(snapshot))
    return EXIT_OK


def _tools(args: argparse.Namespace) -> int:
    from mosaic_tui import toolchain
    from mosaic_tui.errors import ToolchainError

    tools = toolchain.install(_say)
    geth: Path | str
    ganache: Path | str
    try:
        geth = toolchain.install_geth(_say)
    except ToolchainError as error:  # only the tests run geth: say why it is missing, do not fail
        geth = "not installed (only the test suite needs it)"
        _say(f"geth: {error}")
    try:
        ganache = toolchain.install_ganache(_say)
    except ToolchainError as error:
        ganache = "not installed (only the test suite needs it)"
        _say(f"ganache: {error}")
    if args.tools_command == "path":
        _say(f"anvil   {toolchain.anvil_path()}")
        _say(f"solc-js {tools.solc_js}")
        _say(f"geth    {geth}")
        _say(f"ganache {ganache}")
    return EXIT_OK


def _contracts(args: argparse.Namespace) -> int:
    from mosaic_tui import contracts

    if args.contracts_command == "build":
        contracts.build(args.sources, args.artifacts, report=_say)
        return EXIT_OK
    problems = contracts.check(args.sources, args.artifacts, report=_say)
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    if problems:
        return EXIT_FAILED
    _say("all artifacts match their sources")
    return EXIT_OK


def _devnet(args: argparse.Namespace) -> int:
    from mosaic_tui import devnet

    directory = args.dir or devnet.default_dir()
    if args.devnet_command == "up":
        devnet.up(directory, port=args.port, chain_id=args.chain_id, block_time=args.block_time,
                  accounts=args.accounts, report=_say)
        _say("stop it with: mosaic-tui devnet down" + (f" --dir {args.dir}" if args.dir else ""))
    elif args.devnet_command == "down":
        devnet.down(directory, report=_say)
    else:
        rows = devnet.status(directory)
        if not rows:
            _say(f"no devnet is recorded in {directory}; start one with: mosaic-tui devnet up")
            return EXIT_OK
        _say(f"{'node':<10} {'pid':>7}  {'url':<24} {'chain id':>9}  {'state':<8} {'block':>7}")
        for row in rows:
            state = "running" if row["running"] else "stopped"
            block = "-" if row["block"] is None else str(row["block"])
            _say(f"{row['name']:<10} {row['pid']:>7}  {row['url']:<24} {row['chain_id']:>9}  {state:<8} {block:>7}")
    return EXIT_OK


def _run_wizard(args: argparse.Namespace) -> int:
    devnet_node = None
    if args.devnet:
        from mosaic_tui import devnet
        from mosaic_tui.validator.launch import validators_wanted

        # The validator nodes the wizard starts need chains that make blocks on their own.
        devnet_node = devnet.up(devnet.default_dir(), port=args.origin_port, report=_say,
                                block_time=1.0 if validators_wanted() else None)
    from mosaic_tui.app import MosaicApp

    app = MosaicApp(plan_path=args.plan, devnet_url=devnet_node.rpc_url if devnet_node else None,
                    devnet_port=args.origin_port, auxiliary_port=args.auxiliary_port)
    app.run()
    if app.session.devnet_left_running:
        _say("the devnet is still running; stop it with: mosaic-tui devnet down")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
