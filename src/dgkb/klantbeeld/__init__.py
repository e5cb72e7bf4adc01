"""The klantbeeld use case: decide, fetch what is permitted, log, then show."""
