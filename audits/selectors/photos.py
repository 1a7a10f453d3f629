"""Reads of photos: what a photo's answer says depends on who reads it.

Two facts compare the photo with what the reader may see: `reused` (does it match evidence
elsewhere?) and `uploaded_by` (who took it?). Told of matches they may not see, a reader
would learn of a secret visit's evidence; told which inspector took a picture, the inspected
unit would learn who sat on the team of a visit it may not see. `for_reader` answers both
for a whole page in two queries; a photo it did not prepare is answered on its own.
"""

from collections.abc import Iterable

from audits.models import Photo, PhotoPurpose, User, Visit
from audits.visibility import visible


def for_reader(user: User, photos: Iterable[Photo]) -> None:
    """Prepare photos for `user`: `shows_reuse` and `names_uploader` on each (two queries)."""
    photos = list(photos)
    if not photos:
        return
    wanted = {pk for photo in photos for pk in photo.matches}
    seen = set(visible(user, Photo).filter(pk__in=wanted).values_list("pk", flat=True))
    visits = {photo.visit_id for photo in photos}
    seen_visits = set(visible(user, Visit).filter(pk__in=visits).values_list("pk", flat=True))
    for photo in photos:
        photo.shows_reuse = any(pk in seen for pk in photo.matches)
        photo.names_uploader = _names(user, photo, photo.visit_id in seen_visits)


def _names(user: User, photo: Photo, sees_visit: bool) -> bool:
    # The unit's rectification proof is no secret to those who see the finding; the team's
    # evidence names its inspector only to those who may know of the visit.
    return (
        sees_visit or photo.uploaded_by_id == user.pk or photo.purpose == PhotoPurpose.RECTIFICATION
    )


def _prepared(user: User | None, photo: Photo) -> None:
    if not hasattr(photo, "shows_reuse"):
        if user is None or not user.is_authenticated:
            photo.shows_reuse = photo.names_uploader = False
        else:
            for_reader(user, [photo])


def flags_for(user: User | None, photo: Photo) -> list[str]:
    """The photo's flags as `user` may read them."""
    _prepared(user, photo)
    return [*photo.flags, "reused"] if photo.shows_reuse else list(photo.flags)


def uploader_for(user: User | None, photo: Photo) -> int | None:
    """Who uploaded the photo, if `user` may know; else None."""
    _prepared(user, photo)
    return photo.uploaded_by_id if photo.names_uploader else None
