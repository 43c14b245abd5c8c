// Native-facing buffers: always backed by their own ArrayBuffer (off the V8 heap, never moved),
// so a pointer taken once stays valid for as long as the owner keeps the buffer referenced.

/** A zeroed buffer whose memory C may keep a pointer to (while the owner references it). */
export function nativeBuffer(size: number): Uint8Array<ArrayBuffer> {
  return new Uint8Array(new ArrayBuffer(size));
}

/** The address of a buffer as a bigint, for storing inside another native structure. */
export function addressOf(buffer: Uint8Array): bigint {
  return BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(buffer)));
}
