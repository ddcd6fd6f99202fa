from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = _("Journal d'audit")

    def ready(self) -> None:
        # Role changes (group membership, staff and superuser flags) are recorded whatever the channel.
        from audit import signals

        signals.connect()
