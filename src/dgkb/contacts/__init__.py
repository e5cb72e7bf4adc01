"""Contact sessions: purpose binding enforced on the server."""
