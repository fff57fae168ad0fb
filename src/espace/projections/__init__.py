"""projections layer of espace."""
