"""Benchmarks: each runs a baseline and metasync in the same run and gates on the ratio."""
