"""Persistence: typed SQLAlchemy models, engine/session factory, Alembic migrations."""

from core.db.engine import Database, DatabaseError, get_database, reset_shared_databases

__all__ = ["Database", "DatabaseError", "get_database", "reset_shared_databases"]
