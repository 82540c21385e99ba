// Build the CRS timeline page into cds_service/web/static/ (served by crs-cds at /app/).
// Everything the page runs is bundled here from node_modules: nothing is fetched from a CDN at run time.
import { build } from "esbuild";
import { copyFile, mkdir, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "cds_service", "web", "static");

await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });
await build({
  entryPoints: { launch: join(here, "src", "launch.js"), app: join(here, "src", "app.js") },
  outdir: out,
  bundle: true,
  format: "iife",
  platform: "browser",
  target: ["es2020"],
  minify: true,
  sourcemap: false,
  legalComments: "linked",
  // fhirclient's "pure" build: no fetch/AbortController polyfills (every supported browser has them).
  define: { FHIRCLIENT_PURE: "true", "process.env.NODE_ENV": '"production"' },
  logLevel: "warning",
});
for (const file of ["index.html", "launch.html", "style.css"]) {
  await copyFile(join(here, "src", file), join(out, file));
}
await writeFile(join(out, "BUILT"), new Date().toISOString() + "\n");
console.log(`CRS timeline app built into ${out}`);
