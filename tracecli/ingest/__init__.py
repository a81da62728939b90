"""Reading source log formats into the canonical span table."""
