"""The composition root (root.py) and the route dependencies on its services (deps.py)."""
