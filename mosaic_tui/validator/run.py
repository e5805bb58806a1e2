"""`mosaic-tui validator run ENV_FILE`: the node in the foreground until SIGTERM or Ctrl-C."""

from __future__ import annotations

import os
import signal
import sys
import threading
from pathlib import Path

from mosaic_tui.chain.rpc import PATIENCE_ENV

# An RPC outage is waited out pass after pass; one pass gives up after this many seconds so that a
# SIGTERM during an outage still ends the node promptly.
NODE_RPC_PATIENCE = "10"


def run(env_file: Path) -> int:
    from mosaic_tui.validator.config import load_config
    from mosaic_tui.validator.node import ValidatorNode

    config = load_config(env_file)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())

    def log(line: str) -> None:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

    # The node's own patience, for as long as it runs: a caller in the same process (the CLI's main called
    # from Python, a test) must not inherit it.
    unset = PATIENCE_ENV not in os.environ
    os.environ.setdefault(PATIENCE_ENV, NODE_RPC_PATIENCE)
    try:
        node = ValidatorNode(config, log=log, stop=stop)
        node.open()
        try:
            node.run()
        finally:
            node.close()
    finally:
        if unset:
            os.environ.pop(PATIENCE_ENV, None)
    return 0
