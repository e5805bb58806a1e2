"""The step indicator: where the operator is in the wizard, what is done, what comes next."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

# (page name, full label, short label); the short one is used when the full line does not fit.
PAGES: tuple[tuple[str, str, str], ...] = (
    ("welcome", "Start", "S"),
    ("prerequisites", "Chains", "C"),
    ("validators", "Validators", "V"),
    ("review", "Review", "R"),
    ("step-0", "Fund", "F"),
    ("step-1", "1 Origin", "1"),
    ("step-2", "2 Staking", "2"),
    ("step-3", "3 Auxiliary", "3"),
    ("step-4", "4 Initialize", "4"),
    ("export", "5 Rum", "5"),
)
SEPARATOR = " › "


class StepIndicator(Widget):
    """One line: done pages ticked, the current one highlighted, the rest dimmed."""

    DEFAULT_CSS = """
    StepIndicator { height: 1; width: 1fr; padding: 0 1; background: $boost; }
    """

    current: reactive[str] = reactive("welcome")
    done: reactive[frozenset[str]] = reactive(frozenset())

    def __init__(self, current: str = "welcome", pages: Sequence[str] | None = None, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._names = tuple(pages) if pages is not None else tuple(name for name, _, _ in PAGES)
        self.set_reactive(StepIndicator.current, current)

    def set_pages(self, pages: Sequence[str]) -> None:
        self._names = tuple(pages)
        self.refresh()

    def _line(self, short: frozenset[str]) -> Text:
        """The line with the pages in `short` written by their one-letter code."""
        text = Text(no_wrap=True, overflow="ellipsis")
        labels = [(name, full, brief) for name, full, brief in PAGES if name in self._names]
        for position, (name, full, brief) in enumerate(labels):
            if position:
                text.append(SEPARATOR, style="dim")
            label = brief if name in short and name != self.current else full
            if name == self.current:
                text.append(f" {label} ", style="bold reverse")
            elif name in self.done:
                text.append(f"✓{label}", style="green")
            else:
                text.append(label, style="dim")
        return text

    def render(self) -> Text:
        # Shorten what matters least first: the pages already done, then those still to come.
        width = self.content_size.width or 200
        done = frozenset(name for name in self._names if name in self.done)
        for short in (frozenset(), done, frozenset(self._names)):
            line = self._line(short)
            if line.cell_len <= width:
                return line
        return line
