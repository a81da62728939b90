"""One module per source log format, each a SQL mapping onto the canonical span schema; the registry lists them."""
