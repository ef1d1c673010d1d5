#!/usr/bin/env python
"""Run the demo SP: `python demo/sp/manage.py runserver 127.0.0.1:8001` (its small database is migrated first)."""

import os
import sys
from pathlib import Path


def main() -> None:
    """Django's command line, with this directory's settings; `runserver` migrates the SP's own database first."""
    repo_root = Path(__file__).resolve().parents[2]  # so that `demo.sp` is importable from anywhere
    sys.path.insert(0, str(repo_root))
    os.environ["DJANGO_SETTINGS_MODULE"] = "demo.sp.settings"  # never Lanyard's, even when inherited
    from django.core.management import call_command, execute_from_command_line

    if len(sys.argv) > 1 and sys.argv[1] == "runserver" and os.environ.get("RUN_MAIN") != "true":
        import django

        django.setup()
        call_command("migrate", interactive=False, verbosity=0)
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
