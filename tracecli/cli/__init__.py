"""The command-line layer: Typer commands that parse options, call the core, pick a renderer."""
