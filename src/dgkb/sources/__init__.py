"""Source adapters: one module per source API. Adapters know nothing about purposes."""
