"""Ingest stage: producers that put raw documents on the raw topics."""
