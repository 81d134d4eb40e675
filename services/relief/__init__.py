"""Temporary relief (临时救助): rules, the state machine, applications, the queue, funds and overview."""
