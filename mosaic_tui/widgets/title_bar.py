"""The one-line title of every page: the app's name and what it does.

Textual's Header updates its title from an async watcher that can run after a quickly switched-away
screen has lost its children (seen when a deployment moves through the step pages fast), so the
pages use this plain line instead.
"""

from __future__ import annotations

from textual.widgets import Static


class TitleBar(Static):
    DEFAULT_CSS = """
    TitleBar { height: 1; width: 1fr; background: $panel; color: $foreground; text-style: bold;
               content-align: center middle; }
    """

    def on_mount(self) -> None:
        self.update(f"{self.app.title} — {self.app.sub_title}")
