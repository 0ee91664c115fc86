"""WSGI entry point: `gunicorn wsgi:app`."""
from gis_app import create_app

app = create_app()
