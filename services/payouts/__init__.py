"""Subsidy payouts: programs and standards, the bank's result files, reconciliation, 整改 and 钱到没到."""
