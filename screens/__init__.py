"""Textual screens of the wizard: one per step, plus monitor and modals."""
