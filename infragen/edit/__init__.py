"""edit: change the inventory file itself, keeping every comment and alignment."""
