"""The audit trail's own verbs: sealing, the daily signed head by e-mail, recorded exports.

The trail's machinery (capture, sealing, proofs, verification) lives in `audits/trail/`;
these are the actions taken with it, by the scheduler or by an auditor.
"""

import json
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.utils.translation import gettext as _
from django.utils.translation import override

from audits.choices import Role
from audits.models import User
from audits.services.common import acting
from audits.trail.events import record_event
from audits.trail.seal import current_head, seal


def trail_seal() -> int:
    """Seal every committed event; returns the size of the newest signed head (0: none)."""
    run = seal()
    return run.head.tree_size if run.head else 0


def trail_head_mail() -> int:
    """Seal, then mail the current signed head to the auditors: a copy outside our reach.

    Recipients are `AUDITOR_EMAILS` and every active auditor with an address. Returns the
    head's size, or 0 when there is no head or nobody to send it to.
    """
    seal()
    head = current_head()
    if head is None:
        return 0
    recipients = set(settings.AUDITOR_EMAILS)
    recipients |= set(
        User.objects.filter(roles__contains=[Role.AUDITOR], is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
    )
    if not recipients:
        return 0
    with override(settings.LANGUAGE_CODE):
        subject = _("督查审计链每日签名树头：第 %(seq)s 号记录") % {"seq": head.tree_size}
        body = (
            _("请保存本邮件。它记录了审计链在签名时的状态，日后可据此核验历史记录未被改写。")
            + "\n\n"
            + head.printable()
            + "\n\n"
            + json.dumps(head.as_dict(), ensure_ascii=False, indent=2)
            + "\n"
        )
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, sorted(recipients))
    return head.tree_size


def trail_export_record(*, actor: User, filters: dict[str, Any]) -> None:
    """An auditor took the trail away as CSV, with these filters: that is an event too."""
    with acting(actor, "audit.export"):
        record_event(
            action="audit.export",
            object_type="audit_trail",
            object_id="csv",
            data={key: str(value) for key, value in filters.items()},
        )
