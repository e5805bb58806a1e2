"""A stand-in for another signer (a hardware wallet, an offline machine): signs what `--unsigned` wrote.

Run as its own process with only its own keystore: `python signer.py UNSIGNED KEYSTORE OUT`, the
passphrase in SIGNER_PASSPHRASE. It knows nothing of mosaic-tui beyond the JSON file's shape.
"""

from __future__ import annotations

import json
import os
import sys

from eth_account import Account


def main(unsigned: str, keystore: str, out: str) -> None:
    with open(keystore) as handle:
        account = Account.from_key(Account.decrypt(json.load(handle), os.environ["SIGNER_PASSPHRASE"]))
    with open(unsigned) as handle:
        document = json.load(handle)
    raws = ["0x" + bytes(account.sign_transaction(item["tx"]).raw_transaction).hex()
            for item in document["transactions"]]
    with open(out, "w") as handle:
        json.dump({"transactions": raws}, handle)


if __name__ == "__main__":
    main(*sys.argv[1:4])
