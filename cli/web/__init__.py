"""``eligibility serve``: the JSON API (``/v1``) and the intake page (``/``) on one local server.

``app`` builds the ASGI application (FastAPI), ``models`` holds the request and response models
that give the OpenAPI document, ``intake`` turns the answers of the intake page into a case (the
questions and the choice of the next one are those of ``eligibility ask``), and ``static/`` is the
page itself: HTML, CSS and a script, with no build step and nothing fetched from elsewhere.
"""

from __future__ import annotations

from .app import Limits, create_app

__all__ = ["Limits", "create_app"]
