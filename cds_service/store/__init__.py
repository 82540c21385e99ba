"""Durable storage of issued cards and feedback (SQLAlchemy 2: SQLite by default, PostgreSQL when configured)."""

from cds_service.store.sql import IssuedCard, PatientKeyer, SqlStore, StoredCard, StoredFeedback

__all__ = ["IssuedCard", "PatientKeyer", "SqlStore", "StoredCard", "StoredFeedback"]
