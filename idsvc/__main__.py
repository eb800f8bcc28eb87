"""``python -m idsvc``: the same as the ``idsvc`` command."""

from idsvc.launch import main

main()
