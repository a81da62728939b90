"""The SQL vocabulary shared by ingest, store and read: templates, quoting, macros, call kinds, the cost formula, tool-call shapes."""
