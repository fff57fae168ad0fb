"""application layer of espace."""
