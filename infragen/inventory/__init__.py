"""inventory: the typed model of the estate, its loading with positions, derived facts."""
