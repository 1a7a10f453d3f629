#!/usr/bin/env python
"""Django's command-line utility; every state change it makes is audited as a named job."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "server.settings")
    from django.core.management import execute_from_command_line

    from audits.trail.context import job_context

    command = sys.argv[1] if len(sys.argv) > 1 else "help"
    with job_context(f"manage.py {command}"):
        execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
