// Offline schema checks of the deployment files, run by scripts/deploy-checks.sh:
//   node scripts/deploy/validate.mjs <compose-spec.json> <tools dir with kubernetes-models> <compose.yml> <rendered.yaml…>
// The compose file is checked against the Compose Specification's JSON schema (the one compose-go, and so
// `docker compose config`, validates with); every manifest `helm template` rendered against the
// Kubernetes schemas kubernetes-models ships (and @kubernetes-models/prometheus-operator for the
// ServiceMonitor). A kind with no schema is an error, not a skip.
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import Ajv2020 from "ajv/dist/2020.js";
import { parse, parseAllDocuments } from "yaml";

const [schemaFile, toolsDir, composeFile, ...manifests] = process.argv.slice(2);
if (!schemaFile || !toolsDir || !composeFile || manifests.length === 0) {
  console.error("usage: validate.mjs <compose-spec.json> <tools dir> <compose.yml> <rendered.yaml…>");
  process.exit(2);
}
let failures = 0;
const fail = (what, message) => {
  failures++;
  console.error(`✗ ${what}: ${message}`);
};

// Compose: anchors and `<<` merge keys resolved as compose does.
const ajv = new Ajv2020({ strict: false, allErrors: true });
const validateCompose = ajv.compile(JSON.parse(readFileSync(schemaFile, "utf8")));
const compose = parse(readFileSync(composeFile, "utf8"), { merge: true });
if (validateCompose(compose)) {
  console.log(
    `✓ ${composeFile}: valid against the Compose Specification (${Object.keys(compose.services).length} services)`,
  );
} else {
  for (const e of validateCompose.errors)
    fail(composeFile, `${e.instancePath || "/"} ${e.message} ${JSON.stringify(e.params)}`);
}

// Kubernetes manifests.
// The packages are ESM whose `exports` hide the per-kind files from outside their folder: import by path.
const modules = join(resolve(toolsDir), "node_modules");
const modulePath = (apiVersion, kind) => {
  const pkg = apiVersion.startsWith("monitoring.coreos.com/")
    ? "@kubernetes-models/prometheus-operator"
    : "kubernetes-models";
  return pathToFileURL(join(modules, pkg, apiVersion, `${kind}.js`)).href;
};
for (const file of manifests) {
  const docs = parseAllDocuments(readFileSync(file, "utf8"))
    .map((d) => d.toJS())
    .filter((d) => d != null);
  const kinds = [];
  for (const doc of docs) {
    const what = `${file}: ${doc.kind ?? "?"} ${doc.metadata?.name ?? "?"}`;
    let Model;
    try {
      const mod = await import(modulePath(doc.apiVersion ?? "", doc.kind ?? ""));
      Model = mod[doc.kind] ?? mod.default;
    } catch {
      fail(what, `no schema for apiVersion ${doc.apiVersion} kind ${doc.kind}`);
      continue;
    }
    try {
      new Model(doc).validate();
      kinds.push(doc.kind);
    } catch (err) {
      fail(what, err.message);
    }
  }
  console.log(`✓ ${file}: ${kinds.length} of ${docs.length} manifests valid (${kinds.join(", ")})`);
}
process.exit(failures === 0 ? 0 : 1);
