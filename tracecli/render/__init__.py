"""Turning core results into terminal output (Rich) and machine formats."""
