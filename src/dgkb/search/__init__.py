"""Customer search for identification: one service for every way an agent finds a customer."""
