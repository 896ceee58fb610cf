"""`gridcase` console script: a thin alias for `manage.py` (e.g. `gridcase seed demo`)."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gridcase.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["gridcase", *sys.argv[1:]])


if __name__ == "__main__":
    main()
