"""Rules for people, places and accounts that views, import and seeds share."""

from .accounts import check_can_grant, create_account  # noqa: F401 - account rules live there
from .models import Resident


def set_resident_tags(resident: Resident, tags) -> None:
    """Replace a resident's key-population tags; care plans follow tag changes via signals."""
    resident.tags.set(tags)
