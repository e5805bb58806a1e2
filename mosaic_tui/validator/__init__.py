"""The validator node (our `rum`): reports headers, votes on checkpoints, commits meta-blocks on
origin and proves each newly opened kernel on the auxiliary chain (SPEC step 5, issue 16).

`config` reads the env file step 5 exports, `ledger` is the node's journal of what it signed,
`chains` sends its transactions, `node` runs the duties.
"""
