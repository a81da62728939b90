"""The DuckDB store: opening it, its schema and migrations, and the tables derived at ingest (summaries, cost roll-up)."""
