"""Reference data shipped with espace (the default access matrix, ACC-3)."""
