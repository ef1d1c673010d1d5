"""Event types the event log records about itself, and platform events recorded outside any app."""

EVENT_TYPES = {
    "insights_api_key_create": "An insights API key was created (its secret is shown once).",
    "insights_api_key_revoke": "An insights API key was revoked.",
    "insights_api_key_update": "An insights API key was renamed.",
    "insights_retention_update": "An organization's retention period was changed.",
    "insights_retention_prune": "Events older than the retention period were deleted.",
    "insights_webhook_create": "A webhook target was added.",
    "insights_webhook_disable": "A webhook target was switched off.",
    "insights_webhook_enable": "A webhook target was switched on.",
    # Platform events (organization empty), seen by operators only.
    "outbound_failure": "An outbound request to a tenant's URL failed; the detail is for operators only.",
    "request_refused": "A request was refused before reaching a view (config/middleware.py).",
}
