"""One module per page group of the console."""
