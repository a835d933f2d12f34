"""Benchmarks: `make bench` prints figures and ratios; they are never timed unit tests."""
