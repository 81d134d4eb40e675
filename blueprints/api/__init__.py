"""JSON API for the offline client: /api/v1/… (session cookie, X-CSRFToken on writes).

One blueprint (`bp`, in core.py with its errors and login check); each module beside it adds the routes of
one product area. Importing them here registers their routes.
"""

from blueprints.api import alerts, candidates, coverage, households, offline, relief, visits  # noqa: F401  (each adds routes)
from blueprints.api.core import bp

__all__ = ["bp"]
