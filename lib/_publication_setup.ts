// How a publication's socket is set up, family by family (the rules are in publication.ts's module
// doc): adopting a caller's socket, binding the source, the egress interface, TTL, loopback and
// DSCP, and connecting to the group. Everything goes through the one socket seam.

import {
  canonicalAddress,
  formatAddress,
  isLinkLocalUnicast,
  parseAddress,
  stripZone,
} from "./address.ts";
import { InterfaceNotFoundError, InvalidValueError, MismatchError } from "./errors.ts";
import { findInterfaceByAddress, interfaceIndex } from "./interfaces.ts";
import { type Endpoint, formatEndpoint } from "./endpoint.ts";
import { destinationScopeId, type PublicationConfig } from "./publication_config.ts";
import { PLATFORM } from "../ffi/constants.ts";
import { socketError } from "../ffi/errno.ts";
import { ipMreqn } from "../ffi/group_req.ts";
import type { DecodedEndpoint } from "../ffi/sockaddr.ts";
import type { UdpSocket } from "../ffi/socket.ts";

/** What the set-up decided: the destination endpoint and the egress interface index. */
export interface Configured {
  destination: Endpoint;
  interfaceIndex: number;
}

// A caller-provided socket: non-blocking, same family, and if already bound, bound compatibly.
export function adoptSocket(socket: UdpSocket, config: PublicationConfig): { bound: boolean } {
  const fd = socket.fd;
  socket.setNonBlocking();
  const local = toEndpoint(socket.localEndpoint());
  const family = config.family;
  if (local.family !== family) {
    throw new MismatchError(`address family of socket fd ${fd}`, family, local.family);
  }
  const unspecified = parseAddress(local.address).bytes.every((b) => b === 0);
  if (unspecified && local.port === 0) return { bound: false };
  if (config.sourceAddr !== undefined) {
    const wanted = canonicalAddress(stripZone(config.sourceAddr));
    if (wanted !== local.address) {
      throw new MismatchError(`source address of socket fd ${fd}`, wanted, local.address);
    }
  }
  if (config.sourcePort !== undefined && config.sourcePort !== local.port) {
    throw new MismatchError(`source port of socket fd ${fd}`, config.sourcePort, local.port);
  }
  return { bound: true };
}

export function configureIpv4(
  socket: UdpSocket,
  config: PublicationConfig,
  bound: boolean,
): Configured {
  const P = PLATFORM;
  if (!bound && (config.sourceAddr !== undefined || config.sourcePort !== undefined)) {
    bind(socket, config.sourceAddr ?? "0.0.0.0", config.sourcePort ?? 0, 0);
  }
  let index = 0;
  const outgoing = config.outgoingInterface;
  if (outgoing?.kind === "address") {
    index = findInterfaceByAddress(canonicalAddress(outgoing.address))?.index ?? 0;
    const local = parseAddress(outgoing.address).bytes;
    socket.setStruct(P.IPPROTO_IP, P.IP_MULTICAST_IF, ipMreqn(null, local, 0), {
      label: "IP_MULTICAST_IF",
      value: outgoing.address,
    });
  } else if (outgoing?.kind === "ipv4-index") {
    index = outgoing.index;
    socket.setStruct(P.IPPROTO_IP, P.IP_MULTICAST_IF, ipMreqn(null, null, index), {
      label: "IP_MULTICAST_IF",
      value: `interface index ${index}`,
    });
  }
  socket.setInt(P.IPPROTO_IP, P.IP_MULTICAST_LOOP, config.loopback ? 1 : 0, "IP_MULTICAST_LOOP");
  socket.setInt(P.IPPROTO_IP, P.IP_MULTICAST_TTL, config.ttl, "IP_MULTICAST_TTL");
  const dscp = config.dscpValue;
  if (dscp !== undefined) socket.setInt(P.IPPROTO_IP, P.IP_TOS, dscp << 2, "IP_TOS");
  const destination: Endpoint = Object.freeze({
    family: "IPv4" as const,
    address: canonicalAddress(config.group),
    port: config.port,
    scopeId: 0,
  });
  connect(socket, destination);
  return { destination, interfaceIndex: index };
}

export function configureIpv6(
  socket: UdpSocket,
  config: PublicationConfig,
  bound: boolean,
  existing: boolean,
): Configured {
  const P = PLATFORM;
  if (!existing) socket.setInt(P.IPPROTO_IPV6, P.IPV6_V6ONLY, 1, "IPV6_V6ONLY");
  const sourceAddr = config.sourceAddr;
  const source = sourceAddr === undefined ? undefined : parseAddress(sourceAddr);
  const sourceText = sourceAddr === undefined ? undefined : canonicalAddress(stripZone(sourceAddr));
  const outgoing = config.outgoingInterface;
  const interfaceAddr = outgoing?.kind === "address"
    ? canonicalAddress(outgoing.address)
    : undefined;
  const explicitIndex = outgoing?.kind === "index"
    ? outgoing.index
    : interfaceAddr !== undefined
    ? addressIndex(interfaceAddr)
    : undefined;
  let sourceIndex: number | undefined;
  if (source !== undefined && sourceText !== undefined) {
    if (source.zone !== undefined) sourceIndex = zoneIndex(source.zone);
    else if (sourceText === interfaceAddr) sourceIndex = explicitIndex;
    else if (isLinkLocalUnicast(source.bytes)) {
      sourceIndex = explicitIndex ?? addressIndex(sourceText);
    } else sourceIndex = addressIndex(sourceText);
    if (sourceIndex !== undefined && explicitIndex !== undefined && sourceIndex !== explicitIndex) {
      throw new MismatchError(
        `interface index of source ${sourceText}`,
        explicitIndex,
        sourceIndex,
      );
    }
  }
  const index = explicitIndex ?? sourceIndex ?? 0;
  const bindSource = sourceText ?? interfaceAddr;
  if (!bound && (bindSource !== undefined || config.sourcePort !== undefined)) {
    const linkLocal = bindSource !== undefined && isLinkLocalUnicast(bindSource);
    if (linkLocal && index === 0) {
      throw new InvalidValueError(
        "source",
        bindSource,
        "a link-local source with a %zone or an interface index",
      );
    }
    bind(socket, bindSource ?? "::", config.sourcePort ?? 0, linkLocal ? index : 0);
  }
  if (index !== 0) {
    socket.setInt(P.IPPROTO_IPV6, P.IPV6_MULTICAST_IF, index, "IPV6_MULTICAST_IF");
  }
  socket.setInt(
    P.IPPROTO_IPV6,
    P.IPV6_MULTICAST_LOOP,
    config.loopback ? 1 : 0,
    "IPV6_MULTICAST_LOOP",
  );
  socket.setInt(P.IPPROTO_IPV6, P.IPV6_MULTICAST_HOPS, config.ttl, "IPV6_MULTICAST_HOPS");
  const dscp = config.dscpValue;
  if (dscp !== undefined) socket.setInt(P.IPPROTO_IPV6, P.IPV6_TCLASS, dscp << 2, "IPV6_TCLASS");
  const scopeId = destinationScopeId(config.group, index);
  const destination: Endpoint = Object.freeze({
    family: "IPv6" as const,
    address: canonicalAddress(config.group),
    port: config.port,
    scopeId,
  });
  connect(socket, destination);
  return { destination, interfaceIndex: index };
}

function bind(socket: UdpSocket, address: string, port: number, scopeId: number): void {
  const endpoint = { family: socket.family, address: canonicalAddress(address), port, scopeId };
  socket.bind(
    { family: socket.family, bytes: parseAddress(address).bytes, port, scopeId },
    formatEndpoint(endpoint),
  );
}

function connect(socket: UdpSocket, destination: Endpoint): void {
  socket.connect(
    { ...destination, bytes: parseAddress(destination.address).bytes },
    formatEndpoint(destination),
  );
}

// The interface owning a local address. An address this host does not have fails as the bind
// to it would (EADDRNOTAVAIL), the same runtime failure IPv4 gets from the kernel.
function addressIndex(address: string): number {
  const found = findInterfaceByAddress(address);
  if (found === null) throw socketError(PLATFORM.errno.EADDRNOTAVAIL, "bind", address);
  return found.index;
}

function zoneIndex(zone: string): number {
  if (/^[0-9]+$/.test(zone)) return Number(zone);
  const index = interfaceIndex(zone);
  if (index === 0) throw new InterfaceNotFoundError(zone);
  return index;
}

export function toEndpoint(decoded: DecodedEndpoint): Endpoint {
  return {
    family: decoded.family,
    address: formatAddress(decoded.bytes),
    port: decoded.port,
    scopeId: decoded.scopeId,
  };
}
