from espace.cli import main

main()
