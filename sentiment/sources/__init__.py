"""Mention sources, one module per network: each polls its searches when due and stores what it finds through
sentiment.ingest (idempotent by source and external id). X's poller is sentiment/x_source.py."""
