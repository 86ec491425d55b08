import { timingSafeEqual } from "node:crypto";
import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from "fastify";
import {
  createRemoteJWKSet,
  type JWTPayload,
  type JWTVerifyGetKey,
  errors as joseErrors,
  jwtVerify,
} from "jose";
import type { Logger } from "pino";
import type { Config } from "../config.js";
import { HttpError, unauthorized, unavailable } from "./errors.js";

/**
 * Who may call the REST API and the console, and with which scopes. One instance per server (see
 * `serverAuth`), shared by every route plugin that guards routes:
 *
 *   const auth = serverAuth(deps);
 *   app.post("/proposals/:id/approve", { preHandler: auth.requireScope("approve") }, handler);
 *   const who = principalOf(request); // { login, scopes, via }
 *
 * With JWT_SECRET (HS256) or JWT_JWKS_URL (RS256/ES256) a request needs `Authorization: Bearer <jwt>`
 * whose signature, expiry and (when configured) JWT_AUDIENCE / JWT_ISSUER check out: 401 otherwise.
 * Scopes come from the token's space-separated `scope` claim (as OAuth 2 access tokens carry them);
 * `admin` includes `approve`, which includes `read`. A token without the scope a route needs gets 403.
 * With neither configured the routes answer only clients on loopback (with every scope), 403 to others.
 */

export type Scope = "read" | "approve" | "admin";

export const SCOPES: readonly Scope[] = ["read", "approve", "admin"];

/** What each scope includes: the higher scopes are supersets, so an admin token can do anything. */
const GRANTS: Record<Scope, Scope[]> = {
  read: ["read"],
  approve: ["read", "approve"],
  admin: ["read", "approve", "admin"],
};

export interface Principal {
  /** The token's `sub` (or `client_id` for a client-credentials token); `local` on loopback. */
  login: string;
  scopes: Set<Scope>;
  via: "jwt" | "loopback";
}

export type AuthConfig = Pick<Config, "JWT_SECRET" | "JWT_JWKS_URL" | "JWT_AUDIENCE" | "JWT_ISSUER">;

export interface Auth {
  /** `jwt` when tokens are checked; `loopback` when neither JWT_SECRET nor JWT_JWKS_URL is set. */
  readonly mode: "jwt" | "loopback";
  /** A fastify preHandler: 401/403 (uniform error body) unless the caller holds `scope`. */
  requireScope(scope: Scope): preHandlerAsyncHookHandler;
  /** Who the request comes from, or the HttpError it would get (tests, and handlers that only peek). */
  authenticate(request: FastifyRequest): Promise<Principal>;
}

const principals = new WeakMap<FastifyRequest, Principal>();

/** The caller a requireScope preHandler admitted; throws when the route was not guarded (a bug). */
export function principalOf(request: FastifyRequest): Principal {
  const p = principals.get(request);
  if (!p) throw new Error(`route ${request.routeOptions.url} has no requireScope preHandler`);
  return p;
}

/** 127.0.0.0/8, ::1, and IPv4 loopback mapped into IPv6. */
export function isLoopback(ip: string): boolean {
  const v4 = ip.startsWith("::ffff:") ? ip.slice(7) : ip;
  return v4.startsWith("127.") || ip === "::1";
}

/** The bearer token of an `Authorization: Bearer …` header, if any. */
export function bearerToken(request: Pick<FastifyRequest, "headers">): string | undefined {
  const header = request.headers.authorization;
  const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return match?.[1];
}

/** Compares secrets in time independent of where they differ. */
export function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export const forbidden = (message: string) => new HttpError(403, "forbidden", message);

export function scopesOf(payload: JWTPayload): Set<Scope> {
  const claim = payload.scope;
  const words = typeof claim === "string" ? claim.split(/\s+/) : Array.isArray(claim) ? claim : [];
  const out = new Set<Scope>();
  for (const w of words) if (SCOPES.includes(w as Scope)) for (const s of GRANTS[w as Scope]) out.add(s);
  return out;
}

/** A JOSE error that says nothing about the token but that the key set could not be fetched. */
function keySetUnavailable(err: unknown): boolean {
  return (
    err instanceof joseErrors.JWKSTimeout ||
    err instanceof joseErrors.JWKSInvalid ||
    !(err instanceof joseErrors.JOSEError)
  );
}

function tokenProblem(err: unknown): string {
  if (err instanceof joseErrors.JWTExpired) return "the token has expired";
  if (err instanceof joseErrors.JWTClaimValidationFailed)
    return `the token's ${err.claim} claim is not accepted (${err.reason})`;
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return "the token's signing algorithm is not accepted";
  if (err instanceof joseErrors.JWKSNoMatchingKey) return "no key of the key set matches the token";
  if (err instanceof joseErrors.JWSSignatureVerificationFailed)
    return "the token's signature does not verify";
  return "the token is not a valid JWT";
}

export function createAuth(config: AuthConfig, logger?: Logger): Auth {
  let key: Uint8Array | JWTVerifyGetKey | undefined;
  let algorithms: string[] = [];
  if (config.JWT_JWKS_URL) {
    key = createRemoteJWKSet(new URL(config.JWT_JWKS_URL), { timeoutDuration: 5000 });
    algorithms = ["RS256", "ES256"];
  } else if (config.JWT_SECRET) {
    key = new TextEncoder().encode(config.JWT_SECRET);
    algorithms = ["HS256"];
  }
  const mode = key ? "jwt" : "loopback";
  if (mode === "loopback")
    logger?.warn(
      "neither JWT_SECRET nor JWT_JWKS_URL is set: the API and the console answer only clients on loopback",
    );

  async function authenticate(request: FastifyRequest): Promise<Principal> {
    if (!key) {
      if (isLoopback(request.ip)) return { login: "local", scopes: new Set(SCOPES), via: "loopback" };
      throw forbidden(
        "the API answers only on loopback: set JWT_SECRET or JWT_JWKS_URL to accept callers from elsewhere",
      );
    }
    const token = bearerToken(request);
    if (!token) throw unauthorized("send a bearer token: Authorization: Bearer <jwt>");
    let payload: JWTPayload;
    try {
      const verified = await jwtVerify(token, key as JWTVerifyGetKey, {
        algorithms,
        ...(config.JWT_AUDIENCE ? { audience: config.JWT_AUDIENCE } : {}),
        ...(config.JWT_ISSUER ? { issuer: config.JWT_ISSUER } : {}),
      });
      payload = verified.payload;
    } catch (err) {
      if (config.JWT_JWKS_URL && keySetUnavailable(err)) {
        request.log.warn({ err: (err as Error).message }, "the JWKS could not be read");
        throw unavailable("the token cannot be checked right now: the key set is unreachable", 5);
      }
      throw unauthorized(tokenProblem(err));
    }
    const login =
      (typeof payload.sub === "string" && payload.sub) ||
      (typeof payload.client_id === "string" && payload.client_id) ||
      "unknown";
    return { login, scopes: scopesOf(payload), via: "jwt" };
  }

  return {
    mode,
    authenticate,
    requireScope(scope) {
      return async (request: FastifyRequest, _reply: FastifyReply) => {
        const principal = await authenticate(request);
        if (!principal.scopes.has(scope))
          throw forbidden(
            `this needs the ${scope} scope; the token carries ${[...principal.scopes].join(" ") || "none"}`,
          );
        principals.set(request, principal);
      };
    },
  };
}

const perConfig = new WeakMap<object, Auth>();

/**
 * The server's one Auth for its config: the API and the console share it (one JWKS cache, one start-up
 * notice about loopback-only mode).
 */
export function serverAuth(deps: { config: AuthConfig; logger?: Logger }): Auth {
  let auth = perConfig.get(deps.config);
  if (!auth) {
    auth = createAuth(deps.config, deps.logger);
    perConfig.set(deps.config, auth);
  }
  return auth;
}
