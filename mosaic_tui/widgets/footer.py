"""The wizard pages' footer: Textual's `Footer`, rebuilt once for any number of binding refreshes in a row.

Textual's Footer schedules a full recompose (every key restyled) for each `refresh_bindings` its screen
publishes. A page publishes several while it mounts and resumes (focus, the screen stack, the page's own
state), which made the welcome page rebuild its footer six times around its first paint. The recompose
reads the screen's bindings when it runs, so one pending recompose already shows every publish made
before it starts: further publishes until then are dropped, and one made after it starts schedules the
next.
"""

from __future__ import annotations

from textual.screen import Screen
from textual.widgets import Footer


class PageFooter(Footer):
    _recompose_pending = False

    def bindings_changed(self, screen: Screen) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen and not self._recompose_pending:
            self._recompose_pending = True
            self.call_after_refresh(self._recompose_bindings)

    async def _recompose_bindings(self) -> None:
        self._recompose_pending = False  # a publish from here on needs another rebuild
        await self.recompose()
