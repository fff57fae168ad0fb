"""``python -m espace.cli``: the same CLI as the ``espace`` command."""

from espace.cli import main

main()
