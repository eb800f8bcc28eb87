"""Alembic revisions (one file each; Alembic skips this __init__, which makes the folder ship as a package)."""
