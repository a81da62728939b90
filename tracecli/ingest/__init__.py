"""Reading inputs into the store: files and stdin, bad-input salvage, secret masking, pricing, and the pipeline that lands one ingest whole or not at all."""
