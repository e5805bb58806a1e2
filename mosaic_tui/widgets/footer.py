"""The wizard pages' footer: Textual's `Footer`, rebuilt only when the keys it shows change.

Textual's Footer schedules a full recompose (every key restyled) for each `refresh_bindings` its screen
publishes. A page publishes several while it mounts and resumes (focus, the screen stack, the page's own
state), which made the welcome page rebuild its footer six times around its first paint. Here a publish
schedules at most one rebuild at a time (the rebuild reads the bindings when it runs, so it already shows
every publish made before it), and the rebuild is skipped when what the footer would show -- everything
`Footer.compose` reads -- is what it shows already.
"""

from __future__ import annotations

from typing import Any

from textual.screen import Screen
from textual.widgets import Footer


class PageFooter(Footer):
    _recompose_pending = False
    _shown: Any = None  # what the keys were last built from

    def bindings_changed(self, screen: Screen) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen and not self._recompose_pending:
            self._recompose_pending = True
            self.call_after_refresh(self._rebuild_keys)

    def _keys_shown(self) -> tuple[object, ...]:
        app = self.app
        return (self.show_command_palette and app.ENABLE_COMMAND_PALETTE, self.compact, tuple(
            (binding.key, app.get_key_display(binding), binding.description, binding.action, binding.show,
             binding.group, binding.tooltip, enabled, tooltip)
            for _node, binding, enabled, tooltip in self.screen.active_bindings.values()))

    async def _rebuild_keys(self) -> None:
        self._recompose_pending = False  # a publish from here on needs another look
        if not self.is_attached:
            return
        shown = self._keys_shown()
        if shown == self._shown:
            return
        self._shown = shown
        await self.recompose()
