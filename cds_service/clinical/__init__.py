"""Facts -> findings (pure): exposure windows, ASTCT grading, signals, order-time checks. No I/O, no FHIR, no wording.

May import: domain, knowledge. Never reading, rendering, fhir or the wire models.
"""
