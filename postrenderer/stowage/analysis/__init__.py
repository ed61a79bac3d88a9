"""Analyses over the rendered stream that rules and views share."""
