"""Helpers of the realworld tests: real servers in private namespaces, and /proc ground truth."""
