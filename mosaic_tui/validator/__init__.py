"""The validator node (our `rum`): reports headers, votes on checkpoints, commits meta-blocks on
origin and proves each newly opened kernel on the auxiliary chain (step 5 in docs/design.md).

`config` reads the env file step 5 exports, `ledger` is the node's journal of what it signed,
`chains` sends its transactions, `node` runs the duties.
"""
