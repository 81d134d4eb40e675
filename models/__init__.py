"""The tables: the registry, visits, relief, campaigns and accounts (core), and subsidy payouts (payouts)."""

from models.core import *  # noqa: F403
from models.payouts import *  # noqa: F403
