"""Operating DGKB: Prometheus metrics (`metrics`), OpenTelemetry traces (`tracing`) and structured
logs with the request and trace id (`logs`). Nothing here may carry personal data: label values,
span attributes and log fields are route templates, source ids, reason codes and counts, never a
BSN, a name, an address or a contact id.

This package sits at the bottom of the layers (next to `dgkb.settings`): every layer that has
something to count imports it, and it imports no other part of DGKB.
"""
