"""Contract-faithful fake platforms served over real HTTP."""
