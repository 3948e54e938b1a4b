"""Benchmarks of Auditory DeepDreamer: ``python benchmarks/run.py SCENARIO`` (see README.md here)."""
