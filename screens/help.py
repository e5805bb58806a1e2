"""The help screen: the keys, what each step does, and where the files go."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

HELP = """\
# mosaic-tui

**Keys everywhere:** `ctrl+n` next, `esc` back, `F1` this help, `F2` validator status,
`ctrl+p` command palette, `q` / `ctrl+q` quit (a running deployment is stopped cleanly and resumes later).

| Page | Keys |
|---|---|
| Welcome | `d` local devnet, `o` your own chains, `r` resume an unfinished deployment |
| Chains | type into the fields; `Key…` enters a key (pasted, keystore, node, dev) |
| Validators | `a` add, `e` / `enter` edit, `x` remove, `i` import CSV |
| Review | `c` check again, `n` start over (keeps the old journal), `ctrl+n` **Deploy** |
| Steps | `p` pause after the running step, `c` continue |
| Rum export | `c` copy the file's path, `v` next env file, `w` write again, `r` start rum |

**Nothing is sent before Deploy on the Review page.** Every transaction is written to the journal
(`<plan>.state.json`) before it is broadcast, so quitting, a crash or a failure never signs an action
twice: start again and choose *Resume*.

**Keys** never go into the plan: it keeps `keyring:<name>`, `keystore:<path>`, `node` or `dev:<index>`;
`external` for a validator who signs its own stake on its own machine (`mosaic-tui validator stake`).
A pasted key goes into the system keyring when there is a usable one, otherwise into an encrypted
keystore beside the plan; passphrases are asked in masked fields and kept in memory only.

**Files:** the plan, its journal, and in the export folder `genesis.json`, `spec.json`, the node
config, `rum.toml`, one `rum-*.env` per validator and `deployment.toml`.
"""


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,f1,q", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-dialog", classes="dialog"):
            yield Markdown(HELP)
