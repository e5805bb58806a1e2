"""Widgets of the wizard: the step indicator, validated form fields, the live action and status tables."""
