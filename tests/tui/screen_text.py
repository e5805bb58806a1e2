"""What a Pilot-driven app shows, as plain text lines (for assertions and for reading a failing test)."""

from __future__ import annotations

from typing import Any


def screen_text(app: Any) -> str:
    """Every line of the terminal as the app last painted it, modal dialogs included."""
    strips = app.screen._compositor.render_strips()
    return "\n".join("".join(segment.text for segment in strip).rstrip() for strip in strips)


def flat(text: str) -> str:
    """The text with every run of whitespace as one space, so a wrapped sentence is found whole."""
    return " ".join(text.split())
