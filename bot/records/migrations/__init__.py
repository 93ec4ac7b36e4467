"""Alembic's versioned migrations of the records database; `Records` runs them to the newest on open."""
