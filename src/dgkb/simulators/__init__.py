"""Simulators of the source APIs (BRP Personen, ZGW Zaken + Catalogi, Klantinteracties) over one
deterministic fictitious world, served on real sockets for tests, benchmarks and the demo."""
