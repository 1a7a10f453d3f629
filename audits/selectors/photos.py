"""Reads of photos: what a photo's flags say depends on who reads them."""

from collections.abc import Iterable

from audits.models import Photo, User
from audits.visibility import visible


def with_reuse(user: User, photos: Iterable[Photo]) -> None:
    """Mark each photo `shows_reuse` when one of its matches is a photo `user` may see.

    `reused` compares a photo with evidence elsewhere; told of matches they may not see, a
    reader would learn of a secret visit's evidence. One query for all the photos given.
    """
    photos = list(photos)
    wanted = {pk for photo in photos for pk in photo.matches}
    seen = set(visible(user, Photo).filter(pk__in=wanted).values_list("pk", flat=True))
    for photo in photos:
        photo.shows_reuse = any(pk in seen for pk in photo.matches)


def flags_for(user: User | None, photo: Photo) -> list[str]:
    """The photo's flags as `user` may read them."""
    shows = getattr(photo, "shows_reuse", None)
    if shows is None:  # a single photo not prepared by with_reuse: one query
        shows = bool(photo.matches) and user is not None
        shows = shows and visible(user, Photo).filter(pk__in=photo.matches).exists()
    return [*photo.flags, "reused"] if shows else list(photo.flags)
