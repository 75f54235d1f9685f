#!/usr/bin/env python
"""Django's command-line utility. Configuration problems are printed as one line, not a traceback."""

import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "recomamp.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line
    from django.db.utils import OperationalError

    from recomamp.bootstrap import ConfigError

    try:
        execute_from_command_line(sys.argv)
    except (ConfigError, ImproperlyConfigured) as exc:
        sys.exit(f"configuration error: {exc}")
    except OperationalError as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
        sys.exit(f"database error: {first_line} (check DATABASE_URL, or unset it to use the embedded PostgreSQL)")
    except (ValueError, OverflowError, UnicodeError, OSError) as exc:
        # Bad arguments or files a command did not check itself: one line, not a traceback (--traceback shows it).
        if "--traceback" in sys.argv:
            raise
        first_line = (str(exc).strip().splitlines() or [exc.__class__.__name__])[0]
        sys.exit(f"error: {first_line}")


if __name__ == "__main__":
    main()
