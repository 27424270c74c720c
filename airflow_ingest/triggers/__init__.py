"""Async pollers for platform jobs (Encord upload jobs): they wait without holding a worker slot."""
