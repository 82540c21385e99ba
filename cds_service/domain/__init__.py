"""The shared types of the pipeline (concepts, facts, findings): a leaf package that imports nothing of the service."""
