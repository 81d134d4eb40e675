"""Revisit campaigns (排查专项): coverage, statistics, the statistics table and the work reports."""
