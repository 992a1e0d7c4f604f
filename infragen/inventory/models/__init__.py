"""The inventory's models, one module per part of the estate; `model.Inventory` joins them."""
