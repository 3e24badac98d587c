"""Reflex configuration, read from the app's one settings object."""

import reflex as rx
from reflex.plugins.sitemap import SitemapPlugin

from crm_app.settings import get_settings

settings = get_settings()

config = rx.Config(
    app_name="crm_app",
    frontend_port=settings.port,
    backend_port=settings.port + 5000 if settings.env == "dev" else settings.port,
    telemetry_enabled=False,
    show_built_with_reflex=False,
    cors_allowed_origins=settings.allowed_origins,
    trusted_proxy_hops=settings.trusted_proxy_hops,
    redis_url=settings.redis_url or None,
    state_manager_mode="redis" if settings.redis_url else "disk",
    plugins=[
        rx.plugins.RadixThemesPlugin(
            theme=rx.theme(accent_color="indigo", gray_color="slate", radius="medium")
        )
    ],
    disable_plugins=[SitemapPlugin],
)
