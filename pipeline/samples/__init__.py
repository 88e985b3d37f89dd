"""The synthetic sample generator.

Manuscript pages, their text and their damage, for demos, tests and benchmarks.
"""
