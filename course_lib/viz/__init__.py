"""Figures and widgets the lectures draw (kept here so notebooks never copy code)."""
