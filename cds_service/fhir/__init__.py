"""The FHIR boundary, the only package importing fhir.resources: prefetch resolution, FHIR client, parsing."""
