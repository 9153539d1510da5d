"""Settings page."""

from core.db.models import ModelEndpoint, ApiToken
from ui.placeholder import coming_soon

coming_soon("Settings", "Provider keys, custom endpoints and API tokens are being built.", [("ModelEndpoints", ModelEndpoint), ("ApiTokens", ApiToken)])
