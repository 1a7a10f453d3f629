"""ODK Collect support (OpenRosa 1.0): the per-visit XForm, the submission parser, the
OpenRosa documents. Plain data in, plain data out: no ORM, no HTTP here (docs/ODK.md)."""
