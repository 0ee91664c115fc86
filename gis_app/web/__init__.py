"""Blueprints for pages."""
