"""CDS Hooks 2.0 wire models, service definitions and HTTP routes."""
