"""Scenario and validation tooling for the CLI (`crs-cds evaluate`, `crs-cds validate`): never on the serving path."""
