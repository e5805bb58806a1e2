"""The wizard pages' footer: the keys a page offers, drawn as one line by one widget.

Textual's `Footer` is a container with a widget per key, recomposed (every key mounted and styled again)
for each bindings refresh its screen publishes; on the welcome page that was a third of the time to the
first paint. This footer looks the same (Textual's footer colours and paddings, the command palette's key
on the right behind a thin bar, disabled keys dimmed) but is a single widget: a bindings refresh reads
the keys, and only when what it would show changed does it render its line again, without a layout.
A click on a key presses it, as with Textual's footer; a disabled key rings the bell.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.screen import Screen
from textual.strip import Strip
from textual.widget import Widget


@dataclass(frozen=True)
class FooterEntry:
    key: str  # the key pressed when it is clicked
    key_display: str
    description: str
    enabled: bool
    palette: bool = False  # the command palette's key, drawn on the right


class PageFooter(Widget, can_focus=False):
    ALLOW_SELECT = False
    COMPONENT_CLASSES = {"page-footer--item", "page-footer--key", "page-footer--description",
                         "page-footer--hover", "page-footer--bar"}
    DEFAULT_CSS = """
    PageFooter {
        dock: bottom;
        height: 1;
        color: $footer-foreground;
        background: $footer-background;
        .page-footer--item { background: $footer-item-background; }
        .page-footer--key { color: $footer-key-foreground; background: $footer-key-background; text-style: bold; }
        .page-footer--description { color: $footer-description-foreground;
                                    background: $footer-description-background; }
        .page-footer--hover { color: $footer-key-foreground; background: $block-hover-background; }
        .page-footer--bar { color: $foreground 20%; }
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self._entries: tuple[FooterEntry, ...] = ()
        self._spans: list[tuple[int, int, FooterEntry]] = []  # (start, end) columns of each drawn key
        self._hover: FooterEntry | None = None
        self._pending = False

    @property
    def entries(self) -> tuple[FooterEntry, ...]:
        """The keys shown, in order (the command palette's last)."""
        return self._entries

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self._read_keys()

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen[object]) -> None:
        # A page publishes several refreshes while it mounts or resumes: read the keys once, after them.
        if screen is self.screen and not self._pending:
            self._pending = True
            self.call_after_refresh(self._read_keys)

    def _read_keys(self) -> None:
        self._pending = False
        if not self.is_attached:
            return
        app = self.app
        active = self.screen.active_bindings
        entries: list[FooterEntry] = []
        actions: set[str] = set()
        for _node, binding, enabled, _tooltip in active.values():
            if binding.show and binding.action not in actions:  # one key per action, as Textual's footer
                actions.add(binding.action)
                entries.append(FooterEntry(binding.key, app.get_key_display(binding), binding.description, enabled))
        if app.ENABLE_COMMAND_PALETTE and app.COMMAND_PALETTE_BINDING in active:
            _node, binding, enabled, _tooltip = active[app.COMMAND_PALETTE_BINDING]
            entries.append(FooterEntry(binding.key, app.get_key_display(binding), binding.description, enabled,
                                       palette=True))
        if tuple(entries) != self._entries:
            self._entries = tuple(entries)
            self.refresh()

    def _entry_parts(self, entry: FooterEntry) -> list[Segment]:
        hover = entry == self._hover and entry.enabled
        item = self.get_component_rich_style("page-footer--hover" if hover else "page-footer--item")
        if not entry.enabled:
            item += Style(dim=True)
        # The palette's key is drawn compact, as Textual draws it: no padding around the key.
        key, description = ((entry.key_display, f" {entry.description}") if entry.palette
                            else (f" {entry.key_display} ", f"{entry.description} "))
        return [Segment(key, item + self.get_component_rich_style("page-footer--key")),
                Segment(description, item + self.get_component_rich_style("page-footer--description"))]

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        blank = Style(bgcolor=self.get_component_rich_style("page-footer--item").bgcolor)
        segments: list[Segment] = []
        spans: list[tuple[int, int, FooterEntry]] = []
        column = 0
        for entry in self._entries:
            if entry.palette:
                continue
            parts = self._entry_parts(entry)
            size = sum(part.cell_length for part in parts)
            spans.append((column, column + size, entry))
            segments += parts
            column += size
        line = Strip(segments)
        palette = next((entry for entry in self._entries if entry.palette), None)
        if palette is not None:
            # Docked on the right behind a thin bar, over the keys that do not fit.
            parts = [Segment("▏", self.get_component_rich_style("page-footer--bar")), *self._entry_parts(palette),
                     Segment(" ", blank)]
            start = max(0, width - sum(part.cell_length for part in parts))
            spans = [(begin, min(end, start), entry) for begin, end, entry in spans if begin < start]
            line = Strip.join([line.crop_extend(0, start, blank), Strip(parts)])
            spans.append((start, width, palette))
        self._spans = spans
        return line.crop_extend(0, width, blank) if y == 0 else Strip.blank(width, blank)

    def _entry_at(self, x: int) -> FooterEntry | None:
        return next((entry for start, end, entry in self._spans if start <= x < end), None)

    def on_mouse_down(self, event: events.MouseDown) -> None:
        entry = self._entry_at(event.x)
        if entry is None:
            return
        if entry.enabled:
            self.app.simulate_key(entry.key)
        else:
            self.app.bell()

    def on_mouse_move(self, event: events.MouseMove) -> None:
        entry = self._entry_at(event.x)
        if entry != self._hover:
            self._hover = entry
            self.refresh()

    def on_leave(self, event: events.Leave) -> None:
        if self._hover is not None:
            self._hover = None
            self.refresh()
