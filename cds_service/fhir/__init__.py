"""The FHIR boundary: the only package that imports fhir.resources. Prefetch resolution, FHIR client, parsing."""
