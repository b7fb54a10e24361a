"""Alarms, the activity log and status cards: an append-only history with latest-state projections."""
