"""Helpers of ``scripts/loadtest.py`` (``make loadtest``): HTTP client, processes, sampling, report."""
