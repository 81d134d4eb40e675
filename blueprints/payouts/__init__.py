"""Subsidy payouts: a county imports the bank's result file, townships close 整改 items, everyone sees 钱到没到."""

from flask import Blueprint

bp = Blueprint("payouts", __name__, url_prefix="/payouts")

from blueprints.payouts import corrections, imports, overview, rolls, standards  # noqa: E402, F401  (each adds its routes to bp)
