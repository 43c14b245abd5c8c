/**
 * An IP endpoint as the library reports it (canonical address text, port, IPv6 scope id) and its
 * text form, `239.1.2.3:5000` or `[ff32::1%3]:5000`.
 *
 * @module
 */

/** An IP endpoint: canonical address text, port, and IPv6 scope id (0 for IPv4). */
export interface Endpoint {
  /** `"IPv4"` or `"IPv6"`. */
  readonly family: "IPv4" | "IPv6";
  /** Canonical address text, without zone. */
  readonly address: string;
  /** UDP port. */
  readonly port: number;
  /** IPv6 scope id (interface index), 0 when none. */
  readonly scopeId: number;
}

/**
 * An endpoint as text: `239.1.2.3:5000`, `[ff32::1%3]:5000`.
 *
 * @example
 * ```ts
 * import { formatEndpoint } from "./endpoint.ts";
 * formatEndpoint({ family: "IPv6", address: "ff32::1", port: 5000, scopeId: 3 }); // "[ff32::1%3]:5000"
 * ```
 *
 * @param endpoint The endpoint.
 * @returns The text.
 */
export function formatEndpoint(endpoint: Endpoint): string {
  if (endpoint.family === "IPv4") return `${endpoint.address}:${endpoint.port}`;
  const scope = endpoint.scopeId ? `%${endpoint.scopeId}` : "";
  return `[${endpoint.address}${scope}]:${endpoint.port}`;
}
