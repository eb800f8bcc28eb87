"""``python -m idsvc``: the same as the ``idsvc`` command."""

from idsvc.cli import main

main()
