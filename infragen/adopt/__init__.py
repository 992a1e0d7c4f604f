"""adopt: read configs an estate already runs and write the inventory entries for them."""
