"""Alembic migrations of the relational schema (run through ``extractor db upgrade``)."""
