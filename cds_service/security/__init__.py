"""Security: caller authentication (CDS Hooks JWT), the FHIR-server SSRF guard, log redaction, JSON limits.

    authenticator.py   Authenticator, Caller, build_authenticator, startup_warning
    issuers.py         the trusted-issuer file (load_issuers -> IssuerRegistry)
    jwks.py            JWKS parsing and key/algorithm matching
    keys.py            KeyStore: inline or fetched keys, cached, rate-limited refresh
    replay.py          ReplayCache protocol and the in-process implementation
    fhir_guard.py      fhir_server_permitted, same_origin
    redaction.py       RedactionFilter for log handlers
    json_limits.py     check_json_limits, before json parsing

docs/SECURITY.md describes the threat model and the configuration.
"""
