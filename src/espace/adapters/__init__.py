"""adapters layer of espace."""
