"""Benchmarks: `make bench` (= `python -m bench`), figures recorded in docs/BENCHMARKS.md.

Each benchmark module has `run(ctx: harness.Context) -> list[harness.Row]`; every row is a
measured target paired with the floor it is compared to. `bench/__main__.py` lists them.
"""
