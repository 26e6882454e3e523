"""Alembic migrations of the store's schema; run by bot.store.migrate, never by hand."""
