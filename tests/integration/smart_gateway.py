"""A SMART authorization server in front of the real FHIR server, for the browser tests (127.0.0.1 only).

Built on authlib (its Flask integration): authorization code grant with PKCE (S256 required) for one public
client, SMART launch context (EHR launch: a `launch` id registered by the test, the "EHR"; standalone launch:
the patient the server was told to pick), `patient` and `appContext` in the token response, bearer tokens checked
with authlib's ResourceProtector. sekmet-fhir accepts only its static bearer token (and HS256 tokens from its own
client-credentials endpoint, no user launch), so this server sits in front of it:

    browser --SMART token--> this gateway (/fhir/...) --sekmet's static token--> sekmet-fhir

It serves `/fhir/.well-known/smart-configuration` for the FHIR base the page uses, enforces patient-level
scopes (patient/*.read or patient/<Type>.read|.rs; searches must name the token's patient; Patient reads only
that patient), rewrites sekmet's own base URL in responses (paging links), and answers CORS for the app origin.
Every FHIR request is recorded (method, path, status; never a token) for the tests to check.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from authlib.integrations.flask_oauth2 import AuthorizationServer, ResourceProtector
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6750 import BearerTokenValidator
from authlib.oauth2.rfc7636 import CodeChallenge
from flask import Flask, Response, jsonify, request
from werkzeug.serving import make_server

COMPARTMENT_TYPES = frozenset({
    "Observation", "MedicationAdministration", "MedicationRequest", "MedicationStatement", "MedicationDispense",
    "Procedure", "Condition",
})
SHARED_TYPES = frozenset({"Medication"})  # not in the patient compartment: readable by id
USER = "Practitioner/test-clinician"  # the clinician signed in to the test EHR


class S256Only(CodeChallenge):
    """PKCE required, and only with S256 (SMART App Launch 2.0 forbids `plain`)."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]  # noqa: RUF012 - authlib's own class attribute


@dataclass
class Client:
    client_id: str
    redirect_uris: list[str]

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str:
        return self.redirect_uris[0]

    def get_allowed_scope(self, scope: str) -> str:
        return " ".join(s for s in scope.split() if _smart_scope(s))

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return False  # a public client: no secret

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == "none"

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


@dataclass
class Code:
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    patient: str
    app_context: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    expires_at: float = field(default_factory=lambda: time.time() + 120)

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope


@dataclass
class Token:
    access_token: str
    scope: str
    patient: str
    expires_at: float
    client_id: str

    def get_scope(self) -> str:
        return self.scope

    def is_expired(self) -> bool:
        return time.time() > self.expires_at

    def is_revoked(self) -> bool:
        return False

    def get_expires_in(self) -> int:
        return int(self.expires_at - time.time())


def _smart_scope(scope: str) -> bool:
    return scope in {"launch", "launch/patient", "openid", "fhirUser"} or scope.startswith("patient/")


def scope_reads(scopes: list[str], resource_type: str) -> bool:
    """patient/*.read, patient/<Type>.read (SMART v1) or patient/*.rs, patient/<Type>.rs (v2)."""
    for scope in scopes:
        context, _, rest = scope.partition("/")
        kind, _, permission = rest.partition(".")
        if context == "patient" and kind in ("*", resource_type) and permission in ("read", "rs", "*"):
            return True
    return False


@dataclass
class Recorded:
    method: str
    path: str
    status: int
    patient_scoped: bool


class SmartGateway:
    """The authorization server and FHIR gateway, on a free port of 127.0.0.1, in a thread of the test process."""

    def __init__(self, *, upstream: str, upstream_token: str, app_origin: str, client_id: str,
                 redirect_uri: str, standalone_patient: str, port: int) -> None:
        self.upstream = upstream.rstrip("/")
        self.upstream_token = upstream_token
        self.app_origin = app_origin
        self.port = port
        self.root = f"http://127.0.0.1:{port}"
        self.base_url = f"{self.root}/fhir"
        self.standalone_patient = standalone_patient
        self.client = Client(client_id, [redirect_uri])
        self.launches: dict[str, dict[str, Any]] = {}
        self.codes: dict[str, Code] = {}
        self.tokens: dict[str, Token] = {}
        self.requests: list[Recorded] = []
        self.authorizations: list[dict[str, str]] = []  # what each authorize request asked (no secrets)
        self.token_responses: list[dict[str, Any]] = []  # keys and context of each token response (no token)
        self._http = httpx.Client(timeout=30.0)
        self.app = self._flask()
        self._server = make_server("127.0.0.1", port, self.app, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # ------------------------------------------------------------ life cycle

    def start(self) -> SmartGateway:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=10)
        self._http.close()

    def register_launch(self, patient: str, app_context: str | None) -> str:
        """What the EHR does before it opens a SMART link: a launch id bound to the patient and appContext."""
        launch = secrets.token_urlsafe(16)
        self.launches[launch] = {"patient": patient, "appContext": app_context}
        return launch

    # ------------------------------------------------------------ the Flask app

    def _flask(self) -> Flask:
        app = Flask("smart-gateway")
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no request lines (they carry launch ids)
        server = AuthorizationServer(app, query_client=self._query_client, save_token=self._save_token)
        server.register_grant(self._code_grant(), [S256Only(required=True)])
        protector = ResourceProtector()
        protector.register_token_validator(self._validator())

        @app.after_request
        def cors(response: Response) -> Response:
            if request.headers.get("Origin") == self.app_origin:
                response.headers["Access-Control-Allow-Origin"] = self.app_origin
                response.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type, Accept"
                response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
                response.headers["Vary"] = "Origin"
            return response

        @app.get("/fhir/.well-known/smart-configuration")
        def smart_configuration() -> Response:
            return jsonify(self.smart_configuration())

        @app.get("/auth/authorize")
        def authorize() -> Response:
            asked = {k: request.args.get(k, "") for k in ("scope", "aud", "code_challenge_method", "launch")}
            self.authorizations.append(asked)
            if request.args.get("aud", "").rstrip("/") != self.base_url:
                return jsonify({"error": "invalid_request", "error_description": "aud is not this FHIR server"}), 400
            launch = request.args.get("launch")
            if launch is not None and launch not in self.launches:
                return jsonify({"error": "invalid_request", "error_description": "unknown launch"}), 400
            try:
                grant = server.get_consent_grant(end_user=USER)
            except OAuth2Error as error:
                return jsonify(dict(error.get_body())), error.status_code
            # The test EHR's user is signed in and consents (a real EHR shows its own sign-in and patient picker).
            return server.create_authorization_response(grant=grant, grant_user=USER)

        @app.post("/auth/token")
        def token() -> Response:
            return server.create_token_response()

        @app.route("/fhir/<path:path>", methods=["GET", "OPTIONS"])
        def fhir(path: str) -> Response:
            if request.method == "OPTIONS":
                return Response(status=204)
            if path == "metadata":
                return self._forward(path, patient_scoped=False)
            try:
                token = protector.acquire_token()
            except OAuth2Error as error:
                self.requests.append(Recorded("GET", path, error.status_code, False))
                return jsonify(dict(error.get_body())), error.status_code
            allowed, scoped = self._permitted(path, token)
            if not allowed:
                self.requests.append(Recorded("GET", path, 403, scoped))
                issue = {"severity": "error", "code": "forbidden", "diagnostics": "outside the token's patient scope"}
                return jsonify({"resourceType": "OperationOutcome", "issue": [issue]}), 403
            return self._forward(path, patient_scoped=scoped)

        return app

    def smart_configuration(self) -> dict[str, Any]:
        return {
            "authorization_endpoint": f"{self.root}/auth/authorize",
            "token_endpoint": f"{self.root}/auth/token",
            "grant_types_supported": ["authorization_code"],
            "response_types_supported": ["code"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["none"],
            "scopes_supported": ["launch", "launch/patient", "patient/*.read", "patient/*.rs"],
            "capabilities": ["launch-ehr", "launch-standalone", "client-public", "context-ehr-patient",
                             "context-standalone-patient", "permission-patient", "permission-v1", "permission-v2"],
        }

    def _code_grant(self) -> type[grants.AuthorizationCodeGrant]:
        gateway = self

        class SmartCodeGrant(grants.AuthorizationCodeGrant):
            TOKEN_ENDPOINT_AUTH_METHODS = ["none"]  # noqa: RUF012 - authlib's own class attribute

            def save_authorization_code(self, code: str, req: Any) -> None:
                launch = request.args.get("launch")
                context = gateway.launches.pop(launch) if launch else {"patient": gateway.standalone_patient,
                                                                       "appContext": None}
                gateway.codes[code] = Code(
                    code=code,
                    client_id=req.client.get_client_id(),
                    redirect_uri=request.args.get("redirect_uri", ""),
                    scope=req.client.get_allowed_scope(request.args.get("scope", "")),
                    patient=context["patient"],
                    app_context=context["appContext"],
                    code_challenge=request.args.get("code_challenge"),
                    code_challenge_method=request.args.get("code_challenge_method"),
                )

            def query_authorization_code(self, code: str, client: Any) -> Code | None:
                item = gateway.codes.get(code)
                if item and item.client_id == client.get_client_id() and item.expires_at > time.time():
                    return item
                return None

            def delete_authorization_code(self, authorization_code: Code) -> None:
                gateway.codes.pop(authorization_code.code, None)

            def authenticate_user(self, authorization_code: Code) -> str:
                return USER

        return SmartCodeGrant

    def _query_client(self, client_id: str) -> Client | None:
        return self.client if client_id == self.client.client_id else None

    def _save_token(self, token: dict[str, Any], req: Any) -> None:
        code: Code = req.authorization_code
        token["patient"] = code.patient  # SMART launch context, in the token response
        if code.app_context is not None:
            token["appContext"] = code.app_context  # CDS Hooks: the card link's appContext, passed through
        self.tokens[token["access_token"]] = Token(
            token["access_token"], token.get("scope", ""), code.patient,
            time.time() + int(token.get("expires_in", 3600)), code.client_id,
        )
        self.token_responses.append({"keys": sorted(token), "patient": code.patient, "scope": token.get("scope"),
                                     "appContext": code.app_context})

    def _validator(self) -> BearerTokenValidator:
        gateway = self

        class Validator(BearerTokenValidator):
            def authenticate_token(self, token_string: str) -> Token | None:
                return gateway.tokens.get(token_string)

        return Validator()

    def _permitted(self, path: str, token: Token) -> tuple[bool, bool]:
        """(allowed, patient_scoped): the SMART patient-level rules for one read or search."""
        parts = path.strip("/").split("/")
        resource_type = parts[0]
        scopes = token.get_scope().split()
        if not scope_reads(scopes, resource_type):
            return False, False
        if resource_type == "Patient":
            return len(parts) == 2 and parts[1] == token.patient, True
        if resource_type in SHARED_TYPES:
            return len(parts) == 2, False
        if resource_type in COMPARTMENT_TYPES and len(parts) == 1:
            subjects = [s.removeprefix("Patient/") for s in request.args.getlist("subject")]
            named = request.args.getlist("patient") + subjects
            return named == [token.patient], True
        return False, False

    def _forward(self, path: str, *, patient_scoped: bool) -> Response:
        upstream = self._http.get(
            f"{self.upstream}/{path}",
            params=list(request.args.items(multi=True)),
            headers={"Authorization": f"Bearer {self.upstream_token}", "Accept": "application/fhir+json"},
        )
        self.requests.append(Recorded("GET", path, upstream.status_code, patient_scoped))
        body = upstream.text.replace(self.upstream, self.base_url)
        return Response(body, status=upstream.status_code,
                        content_type=upstream.headers.get("content-type", "application/fhir+json"))
