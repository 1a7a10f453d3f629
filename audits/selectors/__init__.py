"""Reads of the domain; each takes the acting user and starts from `visibility.visible`."""
