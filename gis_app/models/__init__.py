"""ORM models, one module per criteria set of the plan (III.2.b)."""
from .accounts import SignInAttempt, User, UserScope, UserSession
from .artifacts import Artifact, ConservationAction, DigitalRecord, InventoryRecord
from .audit import AUDITED_TABLES, Restore, Revision
from .base import Base
from .conditions import ConditionAssessment, ConditionPhoto
from .digital_map import (
                          BasemapFeature,
                          EnvironmentNote,
                          Facility,
                          FacilityKind,
                          Landscape,
                          ProtectionZone,
)
from .general import (
                          AdminUnit,
                          AdminUnitSuccession,
                          Catalogue,
                          HeritageIdentifier,
                          Organisation,
                          Person,
)
from .imports import IMPORT_STATUS, ImportRun
from .intangible import HeritageEvent, IntangibleArtisan, IntangibleHeritage, IntangibleSite
from .relics import Site, SiteAdminUnit
from .zone_checks import ZoneCheckRecord

__all__ = [
                          "AUDITED_TABLES",
                          "IMPORT_STATUS",
                          "AdminUnit",
                          "AdminUnitSuccession",
                          "Artifact",
                          "Base",
                          "BasemapFeature",
                          "Catalogue",
                          "ConditionAssessment",
                          "ConditionPhoto",
                          "ConservationAction",
                          "DigitalRecord",
                          "EnvironmentNote",
                          "Facility",
                          "FacilityKind",
                          "HeritageEvent",
                          "HeritageIdentifier",
                          "ImportRun",
                          "IntangibleArtisan",
                          "IntangibleHeritage",
                          "IntangibleSite",
                          "InventoryRecord",
                          "Landscape",
                          "Organisation",
                          "Person",
                          "ProtectionZone",
                          "Restore",
                          "Revision",
                          "SignInAttempt",
                          "Site",
                          "SiteAdminUnit",
                          "User",
                          "UserScope",
                          "UserSession",
                          "ZoneCheckRecord",
]
