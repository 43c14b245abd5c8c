// Tests of the one error module: exact message formats (sentence case, no final period, a colon
// before the details), the typed fields, the class chain and how values are printed.

import assert from "node:assert/strict";
import {
  ClosedError,
  InterfaceNotFoundError,
  InvalidValueError,
  McastError,
  MismatchError,
  PermissionError,
  SocketError,
  WouldBlockError,
} from "../../ffi/errors.ts";

/** Asserts the house style of a message: capital first letter, no final period, a colon. */
function assertStyle(error: Error): void {
  assert.match(error.message, /^[A-Z]/, `not sentence case: ${error.message}`);
  assert.doesNotMatch(error.message, /\.$/, `final period: ${error.message}`);
  assert.match(error.message, /^[^:]+: \S/, `no colon before the details: ${error.message}`);
}

/** Asserts that `error` is an instance of each class of `chain`, and its name is the first's. */
function assertChain(error: Error, chain: (abstract new (...args: never[]) => Error)[]): void {
  for (const type of chain) assert.ok(error instanceof type, `not a ${type.name}`);
  assert.equal(error.name, chain[0].name);
  assert.equal(String(error), `${chain[0].name}: ${error.message}`);
  assert.ok(error.stack?.startsWith(`${chain[0].name}: ${error.message}`));
}

Deno.test("McastError keeps its message and cause and names itself", () => {
  const cause = new Error("root cause");
  const error = new McastError("Something failed: details", { cause });
  assert.equal(error.message, "Something failed: details");
  assert.equal(error.cause, cause);
  assertChain(error, [McastError, Error]);
  assert.equal(new McastError("No cause: here").cause, undefined);
});

Deno.test("InvalidValueError: message, fields and how each kind of value prints", () => {
  const error = new InvalidValueError("ttl", 300, "an integer from 1 to 255");
  assert.equal(error.message, "Invalid ttl: 300 (expected an integer from 1 to 255)");
  assert.equal(error.what, "ttl");
  assert.equal(error.value, 300);
  assert.equal(error.expected, "an integer from 1 to 255");
  assertChain(error, [InvalidValueError, McastError, Error]);
  assertStyle(error);

  const circular: Record<string, unknown> = {};
  circular.self = circular;
  const cases: [unknown, string][] = [
    ["10.0.0.1", '"10.0.0.1"'],
    ["", '""'],
    [null, "none"],
    [undefined, "none"],
    [5n, "5n"],
    [new Uint8Array(3), "3 bytes"],
    [{ group: "239.1.2.3", port: 5000 }, '{"group":"239.1.2.3","port":5000}'],
    [[1, 2], "[1,2]"],
    [circular, "[object Object]"],
    [Number.NaN, "NaN"],
    [-0.5, "-0.5"],
    [true, "true"],
  ];
  for (const [value, printed] of cases) {
    assert.equal(
      new InvalidValueError("thing", value, "something else").message,
      `Invalid thing: ${printed} (expected something else)`,
    );
  }
  const cause = new RangeError("inner");
  assert.equal(new InvalidValueError("x", 1, "y", { cause }).cause, cause);
});

Deno.test("InterfaceNotFoundError names the value and is an InvalidValueError", () => {
  const expected = "the name, index or local address of an interface on this host";
  const byName = new InterfaceNotFoundError("eth9");
  assert.equal(byName.message, `Invalid interface: "eth9" (expected ${expected})`);
  assert.equal(byName.what, "interface");
  assert.equal(byName.value, "eth9");
  assert.equal(byName.expected, expected);
  assertChain(byName, [InterfaceNotFoundError, InvalidValueError, McastError, Error]);
  assertStyle(byName);
  const byIndex = new InterfaceNotFoundError(42);
  assert.equal(byIndex.message, `Invalid interface: 42 (expected ${expected})`);
  assert.equal(byIndex.value, 42);
});

Deno.test("MismatchError says what was expected and what it got", () => {
  const error = new MismatchError("address family of source", "IPv4", "IPv6");
  assert.equal(
    error.message,
    "Mismatched address family of source: expected IPv4, got IPv6",
  );
  assert.equal(error.what, "address family of source");
  assert.equal(error.actual, "IPv6");
  assert.equal(error.value, "IPv6");
  assert.equal(error.expected, "IPv4", "the expected value, as printed");
  assertChain(error, [MismatchError, InvalidValueError, McastError, Error]);
  assertStyle(error);
  assert.equal(
    new MismatchError("source port", 5000, 5001).message,
    "Mismatched source port: expected 5000, got 5001",
  );
  const none = new MismatchError("bound address", "10.0.0.1", null);
  assert.equal(none.message, "Mismatched bound address: expected 10.0.0.1, got none");
  assert.equal(none.actual, null);
  assert.equal(
    new MismatchError("zone", undefined, "eth0").message,
    "Mismatched zone: expected none, got eth0",
  );
});

Deno.test("SocketError names the call, errno and the value it was given", () => {
  const error = new SocketError("bind", 99, "EADDRNOTAVAIL", "10.9.9.9:5000");
  assert.equal(error.message, "Failed to bind: EADDRNOTAVAIL (errno 99): 10.9.9.9:5000");
  assert.equal(error.syscall, "bind");
  assert.equal(error.errno, 99);
  assert.equal(error.errnoName, "EADDRNOTAVAIL");
  assert.equal(error.value, "10.9.9.9:5000");
  assertChain(error, [SocketError, McastError, Error]);
  assertStyle(error);

  const bare = new SocketError("getifaddrs", 12, "ENOMEM");
  assert.equal(bare.message, "Failed to getifaddrs: ENOMEM (errno 12)", "no value, no detail");
  assert.equal(bare.value, undefined);
  assert.equal(
    new SocketError("setsockopt(IP_MULTICAST_TTL)", 22, "EINVAL", 300).message,
    "Failed to setsockopt(IP_MULTICAST_TTL): EINVAL (errno 22): 300",
  );
  assert.equal(
    new SocketError("connect", 97, "EAFNOSUPPORT", { port: 1 }).message,
    'Failed to connect: EAFNOSUPPORT (errno 97): {"port":1}',
  );
  assert.equal(
    new SocketError("close", 9, "EBADF", null).message,
    "Failed to close: EBADF (errno 9): none",
  );
  const cause = new Error("inner");
  assert.equal(new SocketError("send", 1, "EPERM", "x", { cause }).cause, cause);
});

Deno.test("WouldBlockError is a SocketError with the same message format", () => {
  const error = new WouldBlockError("send", 11, "EAGAIN", "64 bytes to 239.1.2.3:5000");
  assert.equal(error.message, "Failed to send: EAGAIN (errno 11): 64 bytes to 239.1.2.3:5000");
  assert.equal(error.errnoName, "EAGAIN");
  assert.equal(error.errno, 11);
  assert.equal(error.syscall, "send");
  assertChain(error, [WouldBlockError, SocketError, McastError, Error]);
  assertStyle(error);
  assert.ok(!(new SocketError("send", 11, "EAGAIN") instanceof WouldBlockError));
});

Deno.test("PermissionError and ClosedError", () => {
  const cause = new Error("EACCES");
  const permission = new PermissionError(
    "write /proc/sys/net/ipv4/conf/lo/force_igmp_version",
    { cause },
  );
  assert.equal(
    permission.message,
    "Permission needed: write /proc/sys/net/ipv4/conf/lo/force_igmp_version",
  );
  assert.equal(permission.operation, "write /proc/sys/net/ipv4/conf/lo/force_igmp_version");
  assert.equal(permission.cause, cause);
  assertChain(permission, [PermissionError, McastError, Error]);
  assertStyle(permission);
  assert.ok(!(permission instanceof InvalidValueError) && !(permission instanceof SocketError));

  const closed = new ClosedError("publication 3");
  assert.equal(closed.message, "Already closed: publication 3");
  assertChain(closed, [ClosedError, McastError, Error]);
  assertStyle(closed);
  assert.ok(!(closed instanceof InvalidValueError) && !(closed instanceof SocketError));
});
