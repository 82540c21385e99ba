"""Clinical knowledge as validated data: schema, loader, and medication recognition."""
