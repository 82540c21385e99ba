// SMART App Launch 2.0: EHR launch (?iss=...&launch=...) and standalone launch (?iss=... or the form).
// Authorization code with PKCE (S256, required); patient-level read scopes; the client id comes from the service.
import FHIR from "fhirclient";

const status = document.getElementById("launch-status");
const form = document.getElementById("standalone");
const error = document.getElementById("launch-error");

function fail(message) {
  error.textContent = message;
  error.hidden = false;
  status.textContent = "Launch failed.";
}

async function config() {
  const response = await fetch("../smart/config", { headers: { Accept: "application/json" } });
  if (!response.ok) throw new Error(`the service answered ${response.status} for its SMART settings`);
  return response.json();
}

async function authorize(settings, iss, launch) {
  const options = {
    clientId: settings.clientId,
    scope: launch ? settings.scopes.ehr : settings.scopes.standalone,
    redirectUri: "index.html",
    iss,
    pkceMode: "required",
  };
  if (launch) options.launch = launch;
  status.textContent = launch ? "Authorizing with the EHR…" : "Opening the FHIR server's sign-in…";
  await FHIR.oauth2.authorize(options);
}

async function main() {
  const params = new URLSearchParams(window.location.search);
  const iss = params.get("iss");
  const launch = params.get("launch");
  let settings;
  try {
    settings = await config();
  } catch (e) {
    fail(String(e.message || e));
    return;
  }
  if (iss) {
    await authorize(settings, iss, launch).catch((e) => fail(String(e.message || e)));
    return;
  }
  status.textContent = "No EHR launch: choose a FHIR server.";
  form.hidden = false;
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const value = new FormData(form).get("iss");
    authorize(settings, String(value), null).catch((e) => fail(String(e.message || e)));
  });
  document.getElementById("iss").focus();
}

main();
