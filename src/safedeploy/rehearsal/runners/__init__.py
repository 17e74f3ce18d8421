"""The function runners, one per runtime (run in the function's own process)."""
