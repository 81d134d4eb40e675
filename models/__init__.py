"""The tables: the registry, visits, relief, campaigns and accounts (core), subsidy payouts, 主动发现 (alerts),
the department lists and field-report photos that feed it (signals), and care."""

from models.alerts import *  # noqa: F403
from models.care import *  # noqa: F403
from models.core import *  # noqa: F403
from models.payouts import *  # noqa: F403
from models.signals import *  # noqa: F403
