"""Findings -> CDS Hooks cards (pure): wording from cards/templates/, suggestions as FHIR R4 drafts.

May import: domain, cdshooks (the card wire models), knowledge, settings, errors. Never FHIR reading or rules.
"""
