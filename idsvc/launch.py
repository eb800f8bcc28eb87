"""The ``idsvc`` command's entry point: patches the process for gevent before anything is imported.

``idsvc serve`` runs gunicorn's gevent workers.  Patching must come before any other import: a
module imported before the patch keeps the blocking original.  psycopg 3 is the sharpest case: it
chooses its wait function when ``psycopg.waiting`` is imported, and chooses the C one (which blocks
the whole process, not the greenlet) unless ``select`` is already patched — so one request waiting
on a row lock would stop every other request of that worker, including the one holding the lock.
Only ``serve`` is patched; every other command (``worker``, ``db``, ...) runs unpatched.
"""

from __future__ import annotations

import sys


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "serve":
        from gevent import monkey

        monkey.patch_all()
    from idsvc.cli import main as cli_main

    cli_main()
