"""Our thin Bitrix24 REST client: per-portal limiter, token refresh, batch and fast list walks."""
