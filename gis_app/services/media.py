"""Who may see a media file under MEDIA_DIR: the digital record or condition photo that
names it decides.

A file is served only if a row names it (`digital_records.uri` or
`condition_photos.uri`, a path relative to MEDIA_DIR) and the role may see that row:
- the public: records shown (approved, not removed: digital_records.SHOWN) of
  published, non-sensitive sites; of published intangible heritage; of artifacts the
  public may see (services.visibility.public_artifact);
- commune editors, district reviewers, admins: also the photos of the condition
  assessments they may see (a commune editor's: relics in their units on that date);
- commune editors: also every record (waiting, removed) of a relic their scope covers
  or of an artifact held there, so they see the photos they sent for review;
- district reviewers and admins (FULL_ACCESS_ROLES): every digital record.
Anything else is answered as unknown, so drafts and sensitive records do not leak.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_app.services import conditions, scopes
from gis_app.services.digital_records import SHOWN as RECORD_SHOWN
from gis_app.services.features import FULL_ACCESS_ROLES, OFFICIAL_ROLES
from gis_app.services.visibility import public_artifact, public_site

PUBLIC_SITE = public_site("s")
PUBLIC_RECORD_SQL = f"""
    SELECT EXISTS (
      SELECT 1 FROM digital_records d
        LEFT JOIN sites s ON s.id = d.site_id
        LEFT JOIN intangible_heritage i ON i.id = d.intangible_id
        LEFT JOIN artifacts a ON a.id = d.artifact_id
        LEFT JOIN sites h ON h.id = a.holding_site_id
       WHERE d.uri = :uri AND {RECORD_SHOWN}
         AND ((d.site_id IS NOT NULL AND {PUBLIC_SITE})
              OR (d.intangible_id IS NOT NULL AND i.status = 'published')
              OR (d.artifact_id IS NOT NULL AND {public_artifact('a', 'h')})))"""
ANY_RECORD_SQL = "SELECT EXISTS (SELECT 1 FROM digital_records WHERE uri = :uri)"
# A relic's record, for a user whose scope covers the relic (see services.scopes).
SCOPED_RECORD_SQL = f"""
    SELECT EXISTS (SELECT 1 FROM digital_records d
                    LEFT JOIN artifacts a ON a.id = d.artifact_id
                    WHERE d.uri = :uri AND coalesce(d.site_id, a.holding_site_id) IS NOT NULL
                      AND {scopes.covers_site_ever("coalesce(d.site_id, a.holding_site_id)")})"""
# A condition photo, for a user who may see its assessment (commune editors: the relic
# was in one of their units on the assessment date; see services.conditions).
CONDITION_PHOTO_SQL = f"""
    SELECT EXISTS (SELECT 1 FROM condition_photos p
                     JOIN condition_assessments a ON a.id = p.assessment_id
                    WHERE p.uri = :uri AND {conditions.VISIBLE})"""


def is_safe_name(name: str) -> bool:
    """A relative path with no empty, '.' or '..' part and no backslash or NUL."""
    if not name or name.startswith("/") or "\\" in name or "\x00" in name:
        return False
    return all(part not in ("", ".", "..") for part in name.split("/"))


def media_access(db: Session, name: str, user: Any | None) -> str | None:
    """Who may see the file `name` (relative to MEDIA_DIR), for this user (None: the
    public): "public" (anyone: shared caches may keep it), "private" (this user only) or
    None (answer as unknown). Unsafe names (absolute, '..') never reach the database."""
    if not is_safe_name(name):
        return None
    if db.scalar(text(PUBLIC_RECORD_SQL), {"uri": name}):
        return "public"
    role = getattr(user, "role", None)
    if role in FULL_ACCESS_ROLES and db.scalar(text(ANY_RECORD_SQL), {"uri": name}):
        return "private"
    if role == "commune_editor" and db.scalar(text(SCOPED_RECORD_SQL),
                                              {"uri": name, **scopes.bind(user)}):
        return "private"
    if role in OFFICIAL_ROLES and db.scalar(
            text(CONDITION_PHOTO_SQL), {"uri": name, **conditions.visibility(user)}):
        return "private"
    return None
