"""domain layer of espace."""
