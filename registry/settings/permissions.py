"""Who may see and change a setting: the same people as for its organisation."""

from __future__ import annotations

from registry.organisations import permissions as organisation_permissions
from registry.settings.models import Setting


def can_view_setting(user, setting: Setting) -> bool:
    """Members of the organisation, and the board and admins (read-only)."""
    return organisation_permissions.can_view_organisation(user, setting.organisation)


def can_edit_setting(user, setting: Setting) -> bool:
    """Members of the organisation change a setting and its vacancies."""
    return organisation_permissions.can_edit_organisation(user, setting.organisation)
