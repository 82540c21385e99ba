"""The typed FHIR intake: decoded JSON -> PatientRecord of small typed structures, liberal in what it accepts.

    raw JSON (decoded once) --builder (pre-filter)--> read (only the elements rules read) --> PatientRecord

May import: domain. Never knowledge (the pre-filter takes a Protocol), fhir I/O, reading or rules.
"""
