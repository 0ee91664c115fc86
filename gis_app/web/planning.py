"""`/planning`: the planners' page (draw, type or upload a parcel; see its zones)."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("planning", __name__, url_prefix="/planning")
