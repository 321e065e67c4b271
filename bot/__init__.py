"""Teams guidance bot for remote work and the return to the office."""
