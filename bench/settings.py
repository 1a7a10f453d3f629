"""The app's settings with the bench URLconf: the same middleware, plus the floor views."""

from server.settings import *  # noqa: F403

ROOT_URLCONF = "bench.floor_urls"
