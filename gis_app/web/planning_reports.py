"""`/planning/report`: stored zone checks with a reference number, print view and PDF;
`/planning/bulk`: many parcels at once."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("planning_reports", __name__, url_prefix="/planning")
