"""PatientRecord -> Facts (pure): exposures, measurements in canonical units, oxygen support, vasopressors,
treatments, diagnoses and draft orders, read from the typed FHIR intake.

May import: domain, intake (the typed FHIR resources), knowledge. Never rules, rendering or I/O.
"""
