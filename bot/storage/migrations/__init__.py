"""Alembic's script directory: env.py and the revisions (versions/). bot/storage/migrate.py runs them."""
