"""WSGI entry point: ``flask --app wsgi run`` or ``gunicorn wsgi:app`` (``gunicorn.conf.py`` warms each worker)."""

from registry.app import create_app

app = create_app()
