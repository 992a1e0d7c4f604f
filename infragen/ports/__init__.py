"""ports: the estate's port registry as a workflow: list, find free, check, allocate, migrate."""
