"""Blueprints for machine clients (GeoJSON layers)."""
