// Private test helpers on the socket seam (ffi/socket.ts `UdpSocket`), shared by the ffi tests,
// the loopback helpers and the lab fixtures: endpoints and addresses from text (through
// lib/address.ts — tests are not a floor of the house), the text a bind or connect names as the
// library writes it, a socket borrowed by its fd, and the multicast sender and receiver sockets
// the fixtures use. Traffic goes only where the caller points it: `lo` or a lab namespace.

import { formatAddress, parseAddress, scopeIdKept } from "../../lib/address.ts";
import { PLATFORM as P } from "../../ffi/constants.ts";
import { SocketError } from "../../ffi/errors.ts";
import { ipMreqn } from "../../ffi/group_req.ts";
import type { RawAddress, RawEndpoint } from "../../ffi/sockaddr.ts";
import { UdpSocket } from "../../ffi/socket.ts";

/**
 * The family and bytes of an address written as text (a `%zone` is dropped).
 *
 * @param text The address.
 * @returns Its family and bytes.
 */
export function rawAddress(text: string): RawAddress {
  const { family, bytes } = parseAddress(text);
  return { family, bytes };
}

/**
 * An endpoint in bytes from address text, a port and a scope id.
 *
 * @param text The address.
 * @param port The port.
 * @param scopeId The IPv6 scope id.
 * @returns The endpoint.
 */
export function rawEndpoint(text: string, port: number, scopeId = 0): RawEndpoint {
  return { ...rawAddress(text), port, scopeId };
}

/**
 * An endpoint as the library names it in errors: `10.0.0.1:5000`, `[fe80::1%2]:5000`.
 *
 * @param endpoint The endpoint.
 * @returns The text.
 */
export function endpointText(endpoint: RawEndpoint): string {
  const address = formatAddress(endpoint.bytes);
  if (endpoint.family === "IPv4") return `${address}:${endpoint.port}`;
  const scope = endpoint.scopeId ? `%${endpoint.scopeId}` : "";
  return `[${address}${scope}]:${endpoint.port}`;
}

/**
 * Binds `socket` to `text`:`port`, naming the endpoint in an error.
 *
 * @param socket The socket.
 * @param text The address.
 * @param port The port (0: any).
 * @param scopeId The IPv6 scope id.
 */
export function bindTo(socket: UdpSocket, text: string, port: number, scopeId = 0): void {
  const endpoint = rawEndpoint(text, port, scopeId);
  socket.bind(endpoint, endpointText(endpoint));
}

/**
 * Connects `socket` to `text`:`port`, naming the endpoint in an error.
 *
 * @param socket The socket.
 * @param text The address.
 * @param port The port.
 * @param scopeId The IPv6 scope id.
 */
export function connectTo(socket: UdpSocket, text: string, port: number, scopeId = 0): void {
  const endpoint = rawEndpoint(text, port, scopeId);
  socket.connect(endpoint, endpointText(endpoint));
}

/**
 * The socket's local address as canonical text.
 *
 * @param socket The socket.
 * @returns The address.
 */
export function localAddress(socket: UdpSocket): string {
  return formatAddress(socket.localEndpoint().bytes);
}

/**
 * Runs `fn` on a socket that someone else owns (a publication's fd), handing the fd back open.
 *
 * @param fd The descriptor.
 * @param fn What to do with it.
 * @returns What `fn` returns.
 */
export function borrow<T>(fd: number, fn: (socket: UdpSocket) => T): T {
  const socket = UdpSocket.adopt(fd, `borrowed fd ${fd}`);
  try {
    return fn(socket);
  } finally {
    socket.release();
  }
}

/** What {@linkcode openMulticastSender} sets up. */
export interface MulticastSenderOptions {
  /** The group sent to. */
  group: string;
  /** The destination port. */
  port: number;
  /** The source address, bound with an ephemeral port. */
  source: string;
  /** The egress interface index (the scope id of a link-scoped IPv6 group, too). */
  ifindex: number;
  /** TTL / hop limit. */
  ttl: number;
  /** TOS / traffic class byte (DSCP << 2). Default 0. */
  tos?: number;
  /** IP_MULTICAST_LOOP / IPV6_MULTICAST_LOOP; the kernel's default (on) when absent. */
  loop?: boolean;
}

/**
 * A blocking UDP socket connected to a multicast group: egress interface, TTL, TOS and loop
 * set, the source bound. Closed again when a step fails.
 *
 * @param options Group, port, source, interface, TTL, TOS, loop.
 * @returns The socket.
 */
export function openMulticastSender(options: MulticastSenderOptions): UdpSocket {
  const group = rawAddress(options.group);
  const socket = UdpSocket.open(group.family, { nonBlocking: false, label: options.group });
  try {
    const tos = options.tos ?? 0;
    if (group.family === "IPv4") {
      const request = ipMreqn(null, rawAddress(options.source).bytes, options.ifindex);
      socket.setStruct(P.IPPROTO_IP, P.IP_MULTICAST_IF, request, {
        label: "IP_MULTICAST_IF",
        value: options.source,
      });
      socket.setInt(P.IPPROTO_IP, P.IP_MULTICAST_TTL, options.ttl, "IP_MULTICAST_TTL");
      socket.setInt(P.IPPROTO_IP, P.IP_TOS, tos, "IP_TOS");
      if (options.loop !== undefined) {
        socket.setInt(P.IPPROTO_IP, P.IP_MULTICAST_LOOP, options.loop ? 1 : 0, "IP_MULTICAST_LOOP");
      }
    } else {
      socket.setInt(P.IPPROTO_IPV6, P.IPV6_MULTICAST_IF, options.ifindex, "IPV6_MULTICAST_IF");
      socket.setInt(P.IPPROTO_IPV6, P.IPV6_MULTICAST_HOPS, options.ttl, "IPV6_MULTICAST_HOPS");
      socket.setInt(P.IPPROTO_IPV6, P.IPV6_TCLASS, tos, "IPV6_TCLASS");
      if (options.loop !== undefined) {
        const loop = options.loop ? 1 : 0;
        socket.setInt(P.IPPROTO_IPV6, P.IPV6_MULTICAST_LOOP, loop, "IPV6_MULTICAST_LOOP");
      }
    }
    bindTo(socket, options.source, 0);
    // Link-scoped IPv6 groups (ff02::, ff12::, ff32:: …) need the interface as scope id.
    const scopeId = scopeIdKept(group.bytes) ? options.ifindex : 0;
    connectTo(socket, options.group, options.port, scopeId);
    return socket;
  } catch (error) {
    socket.close();
    throw error;
  }
}

/** What {@linkcode openMulticastReceiver} sets up. */
export interface MulticastReceiverOptions {
  /** The group joined. */
  group: string;
  /** The port bound. */
  port: number;
  /** The interface joined on (0: the routing default). */
  ifindex: number;
  /** The source of an (S,G) join; absent for (*,G). */
  source?: string;
  /** The address bound. Default: the group. */
  bindAddress?: string;
  /** Receive buffer to ask for (SO_RCVBUFFORCE, else SO_RCVBUF); 0 keeps the default. */
  receiveBufferBytes?: number;
}

/**
 * A non-blocking UDP socket bound to a group's port and joined to it on one interface, with
 * SO_REUSEADDR, MULTICAST_ALL off, and TTL / hop limit, TOS / traffic class and packet info
 * asked for. Closed again when a step fails.
 *
 * @param options Group, port, interface, source, bind address, receive buffer.
 * @returns The socket.
 */
export function openMulticastReceiver(options: MulticastReceiverOptions): UdpSocket {
  const group = rawAddress(options.group);
  const v4 = group.family === "IPv4";
  const level = v4 ? P.IPPROTO_IP : P.IPPROTO_IPV6;
  const socket = UdpSocket.open(group.family, { label: `receiver of ${options.group}` });
  try {
    socket.setInt(P.SOL_SOCKET, P.SO_REUSEADDR, 1, "SO_REUSEADDR");
    if (!v4) socket.setInt(level, P.IPV6_V6ONLY, 1, "IPV6_V6ONLY");
    const bytes = options.receiveBufferBytes ?? 0;
    if (bytes > 0) {
      try {
        socket.setInt(P.SOL_SOCKET, P.SO_RCVBUFFORCE, bytes, "SO_RCVBUFFORCE");
      } catch (error) {
        if (!(error instanceof SocketError) || error.errno !== P.errno.EPERM) throw error;
        socket.setInt(P.SOL_SOCKET, P.SO_RCVBUF, bytes, "SO_RCVBUF"); // not root: up to rmem_max
      }
    }
    bindTo(socket, options.bindAddress ?? options.group, options.port);
    if (v4) socket.setInt(level, P.IP_MULTICAST_ALL, 0, "IP_MULTICAST_ALL");
    else socket.setInt(level, P.IPV6_MULTICAST_ALL, 0, "IPV6_MULTICAST_ALL");
    const describe = `(${options.source ?? "*"}, ${options.group})`;
    if (options.source === undefined) socket.joinGroup(options.ifindex, group, describe);
    else socket.joinSource(options.ifindex, group, rawAddress(options.source), describe);
    const asked = v4
      ? [P.IP_RECVTTL, P.IP_RECVTOS, P.IP_PKTINFO]
      : [P.IPV6_RECVHOPLIMIT, P.IPV6_RECVTCLASS, P.IPV6_RECVPKTINFO];
    for (const option of asked) socket.setInt(level, option, 1, "ancillary data");
    return socket;
  } catch (error) {
    socket.close();
    throw error;
  }
}
