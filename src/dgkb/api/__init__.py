"""HTTP API: REST /api/v1, the AuthZEN PDP endpoint, the dev OIDC issuer (outside production)."""
