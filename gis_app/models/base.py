"""Declarative base, shared column helpers and the controlled vocabularies."""
from __future__ import annotations

from datetime import datetime

from geoalchemy2 import Geometry
from sqlalchemy import CheckConstraint, DateTime, MetaData, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def geometry(kind: str) -> Geometry:
    """A geometry column in EPSG:4326 with a GIST index."""
    return Geometry(geometry_type=kind, srid=4326, spatial_index=True)


def valid_geometry(column: str = "geom") -> CheckConstraint:
    return CheckConstraint(f"ST_IsValid({column})", name=f"{column}_valid")


def one_of(column: str, values: tuple[str, ...], name: str | None = None) -> CheckConstraint:
    """CHECK that a text column holds one of `values` (NULL allowed if nullable)."""
    quoted = ", ".join("'" + v.replace("'", "''") + "'" for v in values)
    return CheckConstraint(f"{column} IN ({quoted})", name=name or f"{column}_allowed")


def all_of(column: str, values: tuple[str, ...]) -> CheckConstraint:
    """CHECK that a text[] column only holds values from `values`."""
    quoted = ", ".join("'" + v.replace("'", "''") + "'" for v in values)
    return CheckConstraint(f"{column} <@ ARRAY[{quoted}]::text[]", name=f"{column}_allowed")


def created_at() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)


# Controlled vocabularies (codes are English; labels live in gis_app/vocab.py).
ADMIN_LEVELS = ("province", "district", "town", "commune", "ward")
RELIC_TYPES = ("historical", "architectural_artistic", "archaeological", "scenic", "mixed")
RANKS = ("special_national", "national", "provincial", "inventoried")
ZONES = ("I", "II", "buffer")
RECORD_STATUS = ("draft", "published", "archived")
ACCURACY = ("surveyed", "digitised", "approximate")
LANDSCAPE_KINDS = ("pond", "tree", "garden", "river_bank", "other")
ICH_TYPES = ("oral_traditions", "folk_performing_arts", "social_customs_beliefs",
             "traditional_festival", "folk_knowledge", "traditional_crafts")
ARTIFACT_KINDS = ("relic_object", "antiquity", "national_treasure", "object")
ARTIFACT_ORIGINS = ("original", "donated", "excavated", "exchanged", "recovered",
                    "purchased", "other")
CONSERVATION_KINDS = ("preventive", "remedial")
# The ordinal condition scale, best first (overall and per element).
CONDITIONS = ("good", "fair", "poor", "very_poor", "ruined")
# The elements an assessment scores (criteria set 5: state of preservation, landscape,
# environment, infrastructure).
ELEMENTS = ("roof", "structure", "decoration", "artifacts", "landscape", "environment",
            "infrastructure")
THREATS = ("flood", "damp", "termites", "encroachment", "unlicensed_construction",
           "vandalism", "theft", "fire", "pollution", "tourism_pressure", "neglect", "other")
TRENDS = ("improving", "stable", "worsening", "unknown")
ROLES = ("public", "commune_editor", "district_reviewer", "admin")
