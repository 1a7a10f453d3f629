"""Celery tasks: thin interfaces that take ids, load, and call one service of `audits`."""
