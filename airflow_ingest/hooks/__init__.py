"""Connections to clients: the platform API hooks and the storage listers over the providers' hooks."""
