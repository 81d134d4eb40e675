"""The statistics table (附表) as an .xlsx workbook, from a campaign's statistics."""

from services.campaign_stats import Statistics


def build(stats: Statistics) -> bytes:
    """Return the workbook's bytes."""
    raise NotImplementedError("statistics table: next commit")
