"""Pure domain: identifiers, catalogue, register, request context. No I/O, no frameworks."""
