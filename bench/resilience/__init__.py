"""`make resilience`: faults on purpose while real processes deliver, with exact counts (docs/reliability.md)."""
