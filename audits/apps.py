from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditsConfig(AppConfig):
    name = "audits"
    verbose_name = _("督查")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from audits import checks  # noqa: F401 - registers the configuration's checks
        from audits.trail import context

        context.install()
