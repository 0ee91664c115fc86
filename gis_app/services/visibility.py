"""Who sees which relics in lists, maps, searches and feeds: one rule, as SQL over a
`sites` alias, for every query to use.

- The public (and commune editors, outside their own desk pages) sees published,
  non-sensitive relics.
- District reviewers and admins see every relic still in the register: drafts and
  sensitive ones too, but not those retired or merged into another (their pages still
  answer, with 410 or a redirect: services.sites).

Artifacts reach the public only when approved, not kept off public pages, and held at a
public relic (`public_artifact`); officials see them in their register (services.artifacts),
district reviewers and admins also by their permanent identifier (`artifact_visible`).
"""
from __future__ import annotations

from gis_app.models.relics import in_register
from gis_app.services.features import FULL_ACCESS_ROLES


def public_site(alias: str = "s") -> str:
    """SQL: the relic `alias` is one the public may see."""
    return f"({alias}.status = 'published' AND NOT {alias}.sensitive)"


def intangible_visible(role: str | None, alias: str = "ih") -> str:
    """SQL: the intangible heritage `alias` (and its festival dates) is shown to `role`:
    district reviewers and admins see drafts too, everyone else published ones only."""
    if role in FULL_ACCESS_ROLES:
        return "true"
    return f"({alias}.status = 'published')"


def site_visible(role: str | None, alias: str = "s") -> str:
    """SQL: the relic `alias` is shown to `role` in lists, maps, searches and feeds."""
    if role in FULL_ACCESS_ROLES:
        return f"({in_register(alias)})"
    return public_site(alias)


def artifact_shown(alias: str = "a") -> str:
    """SQL: the artifact `alias`, as far as the artifact goes, may reach public pages:
    approved by a district reviewer (a commune editor's new or edited artifact waits)
    and not kept off public pages. Its holding relic must be public too: on a relic's
    page that is already decided; elsewhere use `public_artifact`."""
    return f"({alias}.approved_at IS NOT NULL AND {alias}.public)"


def public_artifact(alias: str = "a", site_alias: str = "h") -> str:
    """SQL: the artifact `alias`, held at relic `site_alias` (joined by the caller), is
    one the public may see: `artifact_shown` and a public holding relic."""
    return f"({artifact_shown(alias)} AND {public_site(site_alias)})"


def artifact_visible(role: str | None, alias: str = "a", site_alias: str = "h") -> str:
    """SQL: the artifact `alias` (holding relic `site_alias`, LEFT JOINed by the caller)
    is shown to `role` on its own page: district reviewers and admins see every artifact,
    everyone else `public_artifact`."""
    if role in FULL_ACCESS_ROLES:
        return "true"
    return public_artifact(alias, site_alias)
