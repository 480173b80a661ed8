"""Read-API calls of the dashboard: `base` (the client), one module per page, one function per chart."""

from outcrop.dashboard.api_client.base import Api, ApiError, current_api

__all__ = ["Api", "ApiError", "current_api"]
