from django.apps import AppConfig


class BrokerConfig(AppConfig):
    """The project's own package: settings, roles, API plumbing; as an app, it connects its receivers."""

    name = "broker"
    verbose_name = "Courtier"

    def ready(self) -> None:
        from broker.site_config import connect_receivers

        connect_receivers()
