import { createHmac, generateKeyPairSync } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../../generators/helpers.js";

/** Real webhook payloads from @octokit/webhooks-examples (the shapes GitHub documents), picked by event and action. */
const examples = JSON.parse(
  readFileSync(join(ROOT, "node_modules/@octokit/webhooks-examples/api.github.com/index.json"), "utf8"),
) as { name: string; examples: Record<string, unknown>[] }[];

// biome-ignore lint/suspicious/noExplicitAny: payloads are edited field by field, as GitHub would send them.
export function example(name: string, action: string): any {
  const list = examples.find((d) => d.name === name)!.examples.filter((p) => p.action === action);
  return structuredClone(list.find((p) => p.installation) ?? list[0]);
}

export const SECRET = "test-webhook-secret";

export const privateKeyPem = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({
  type: "pkcs8",
  format: "pem",
}) as string;

export const sign = (body: string, secret = SECRET) =>
  `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;

/** Posts a delivery to the running server, signed unless told otherwise. */
export async function deliver(
  base: string,
  event: string,
  payload: unknown,
  options: { id?: string; signature?: string | null } = {},
): Promise<Response> {
  const body = JSON.stringify(payload);
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "x-github-event": event,
    "x-github-delivery": options.id ?? crypto.randomUUID(),
  };
  const signature = options.signature === undefined ? sign(body) : options.signature;
  if (signature !== null) headers["x-hub-signature-256"] = signature;
  return fetch(`${base}/api/github/webhooks`, { method: "POST", headers, body });
}
