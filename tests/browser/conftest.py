"""Browser tests: the Chromium fixtures (`browser`, `page`) live in tests/conftest.py."""
