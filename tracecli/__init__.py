"""tracecli: inspect LLM request logs and agent traces from the terminal."""

__version__ = "0.1.0"
