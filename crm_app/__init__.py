"""A self-hosted CRM for small sales teams."""
