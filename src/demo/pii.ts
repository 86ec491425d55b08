/**
 * The personal data and secrets planted in the demo's logs (and in a few span / RUM fields): a fixed,
 * seeded pool of customers and credentials. Every string the generator writes comes from this pool, so
 * `values` is the complete list a redaction test must never find in storage.
 */

import { type Rng, rngFor } from "./rng.js";

export type PiiKind =
  | "email"
  | "ipv4"
  | "ipv6"
  | "phone"
  | "card"
  | "jwt"
  | "bearer"
  | "stripe_key"
  | "github_token"
  | "aws_access_key"
  | "aws_secret";

export interface PlantedPii {
  kind: PiiKind;
  value: string;
}

export interface Customer {
  id: string;
  name: string;
  email: string;
  phone: string;
  ip: string;
  card: string;
  jwt: string;
}

export interface PiiPool {
  customers: Customer[];
  bearerTokens: string[];
  stripeKeys: string[];
  githubTokens: string[];
  awsAccessKeys: string[];
  awsSecrets: string[];
  /** Every planted value, exactly as it is written. */
  values: PlantedPii[];
}

const FIRST = [
  "anna",
  "ben",
  "clara",
  "david",
  "elif",
  "felix",
  "greta",
  "hugo",
  "ines",
  "jonas",
  "katrin",
  "lukas",
  "marta",
  "noah",
  "olga",
  "paul",
  "rosa",
  "samir",
  "tina",
  "yusuf",
];
const LAST = [
  "schmidt",
  "moreau",
  "rossi",
  "kowalski",
  "novak",
  "garcia",
  "jensen",
  "yilmaz",
  "fischer",
  "dubois",
  "brennan",
  "okafor",
];
const DOMAINS = ["example.com", "example.org", "example.net", "mail.example.de", "shop-customers.test"];

/** Appends the Luhn check digit to a digit string. */
export function withLuhnDigit(body: string): string {
  let sum = 0;
  for (let i = 0; i < body.length; i++) {
    let d = Number(body[body.length - 1 - i]);
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return body + String((10 - (sum % 10)) % 10);
}

export function luhnValid(digits: string): boolean {
  const d = digits.replace(/[ -]/g, "");
  return /^\d{12,19}$/.test(d) && withLuhnDigit(d.slice(0, -1)) === d;
}

function cardNumber(rng: Rng): string {
  const brand = rng.int(0, 3);
  if (brand === 2) {
    const n = withLuhnDigit(`3${rng.pick(["4", "7"])}${rng.digits(12)}`);
    return `${n.slice(0, 4)} ${n.slice(4, 10)} ${n.slice(10)}`;
  }
  const n = withLuhnDigit(brand === 0 ? `4${rng.digits(14)}` : `5${rng.int(1, 6)}${rng.digits(13)}`);
  const style = rng.int(0, 3);
  if (style === 0) return n;
  const sep = style === 1 ? " " : "-";
  return [n.slice(0, 4), n.slice(4, 8), n.slice(8, 12), n.slice(12)].join(sep);
}

function phone(rng: Rng): string {
  switch (rng.int(0, 4)) {
    case 0:
      return `+49 1${rng.int(50, 80)} ${rng.digits(4)} ${rng.digits(4)}`;
    case 1:
      return `+1 ${rng.int(201, 990)}-555-${rng.digits(4)}`;
    case 2:
      return `(${rng.int(201, 990)}) 555-${rng.digits(4)}`;
    default:
      return `+44 7700 ${rng.digits(6)}`;
  }
}

function ipv4(rng: Rng): string {
  // Public-looking addresses outside the private and loopback ranges.
  const first = rng.pick([31, 37, 46, 62, 77, 84, 91, 109, 145, 178, 185, 188, 194, 212, 217]);
  return `${first}.${rng.int(0, 256)}.${rng.int(0, 256)}.${rng.int(1, 255)}`;
}

function ipv6(rng: Rng): string {
  const h = () => rng.int(0, 0x10000).toString(16);
  if (rng.chance(0.5)) return `2001:db8:${h()}:${h()}::${h()}`;
  return `2a02:${h()}:${h()}:${h()}:${h()}:${h()}:${h()}:${h()}`;
}

function base64url(s: string): string {
  return Buffer.from(s, "utf8").toString("base64url");
}

function jwt(rng: Rng, sub: string, email: string): string {
  const header = base64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));
  const payload = base64url(
    JSON.stringify({ sub, email, iat: 1700000000 + rng.int(0, 9_000_000), scope: "shop" }),
  );
  const sig = rng.alnum(43, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");
  return `${header}.${payload}.${sig}`;
}

export function buildPiiPool(seed: number, customers = 60): PiiPool {
  const rng = rngFor(seed, "pii");
  const list: Customer[] = [];
  const emails = new Set<string>();
  for (let i = 0; i < customers; i++) {
    const first = rng.pick(FIRST);
    const last = rng.pick(LAST);
    let email = `${first}.${last}${rng.int(1, 99)}@${rng.pick(DOMAINS)}`;
    while (emails.has(email)) email = `${first}.${last}${rng.int(100, 999)}@${rng.pick(DOMAINS)}`;
    emails.add(email);
    const id = `cus_${rng.alnum(14)}`;
    list.push({
      id,
      name: `${first[0]!.toUpperCase()}${first.slice(1)} ${last[0]!.toUpperCase()}${last.slice(1)}`,
      email,
      phone: phone(rng),
      ip: rng.chance(0.8) ? ipv4(rng) : ipv6(rng),
      card: cardNumber(rng),
      jwt: jwt(rng, id, email),
    });
  }
  const pool: PiiPool = {
    customers: list,
    bearerTokens: Array.from({ length: 12 }, () => rng.alnum(40)),
    stripeKeys: Array.from({ length: 4 }, () => `sk_live_${rng.alnum(24)}`),
    githubTokens: Array.from({ length: 3 }, () => `ghp_${rng.alnum(36)}`),
    awsAccessKeys: Array.from(
      { length: 3 },
      () => `AKIA${rng.alnum(16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")}`,
    ),
    awsSecrets: Array.from({ length: 3 }, () =>
      rng.alnum(40, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/+"),
    ),
    values: [],
  };
  const values: PlantedPii[] = [];
  for (const c of list) {
    values.push({ kind: "email", value: c.email });
    values.push({ kind: "phone", value: c.phone });
    values.push({ kind: c.ip.includes(":") ? "ipv6" : "ipv4", value: c.ip });
    values.push({ kind: "card", value: c.card });
    values.push({ kind: "jwt", value: c.jwt });
  }
  for (const v of pool.bearerTokens) values.push({ kind: "bearer", value: v });
  for (const v of pool.stripeKeys) values.push({ kind: "stripe_key", value: v });
  for (const v of pool.githubTokens) values.push({ kind: "github_token", value: v });
  for (const v of pool.awsAccessKeys) values.push({ kind: "aws_access_key", value: v });
  for (const v of pool.awsSecrets) values.push({ kind: "aws_secret", value: v });
  pool.values = values;
  return pool;
}

/** The planted values that occur in `text` (for grepping a store dump). */
export function findPlanted(pool: PiiPool, text: string): PlantedPii[] {
  return pool.values.filter((p) => text.includes(p.value));
}
