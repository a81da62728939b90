"""Answers from the store: filters, trace and span listings, one trace as a tree, tool calls, cost totals, replay."""
