"""Pure clinical logic: facts from the record, rules over facts, findings. No I/O, no FHIR models, no wording."""
