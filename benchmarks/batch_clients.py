"""Our batch client (chain/batch.py) against web3's `batch_requests`, on the reads the monitor makes.

    python -m benchmarks.batch_clients [--calls 2000] [--rounds 3]

Starts one anvil, then reads the ETH balance of `--calls` addresses, each round once through
`BatchClient.run` (batches of 500 over one kept-alive connection, raw JSON results) and once through
web3's `w3.batch_requests()` (one batch, web3's request and result formatting). Prints the best round
of each; the faster one is what the monitor and the live checks use (BENCHMARKS.md).
"""

from __future__ import annotations

import argparse
import time

from mosaic_tui import devnet
from mosaic_tui.chain.batch import BatchClient, balance_request


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    from web3 import Web3

    addresses = [Web3.to_checksum_address(f"0x{n:040x}") for n in range(1, args.calls + 1)]
    node = devnet.start_anvil(name="origin", port=devnet.free_port())
    try:
        ours, theirs = [], []
        w3 = Web3(Web3.HTTPProvider(node.rpc_url))
        with BatchClient(node.rpc_url) as client:
            for _ in range(args.rounds):
                started = time.perf_counter()
                mine = [int(answer, 16) for answer in client.run([balance_request(a, "latest") for a in addresses])]
                ours.append(time.perf_counter() - started)
                started = time.perf_counter()
                with w3.batch_requests() as batch:
                    for address in addresses:
                        batch.add(w3.eth.get_balance(address))
                    web3_answers = [int(answer) for answer in batch.execute()]
                theirs.append(time.perf_counter() - started)
                assert mine == web3_answers
        print(f"{args.calls} eth_getBalance calls, best of {args.rounds}: chain/batch.py {min(ours):.3f} s, "
              f"web3 batch_requests {min(theirs):.3f} s ({min(theirs) / min(ours):.1f}x)")
    finally:
        node.stop()


if __name__ == "__main__":
    main()
