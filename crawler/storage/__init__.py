"""Durable local storage: atomic file writes and the saved-article state."""
