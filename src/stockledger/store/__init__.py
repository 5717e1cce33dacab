"""Persistence: tables, migrations and the SQL of each aggregate (SQLAlchemy Core, SQLite and PostgreSQL)."""
