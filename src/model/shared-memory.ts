// Typed arrays over SharedArrayBuffers: column buffers, and the kernel states workers hand back without a
// copy. Kept free of imports so that worker threads load it without Apache Arrow.

export type TypedCtor<T> = { new (buffer: ArrayBufferLike, byteOffset?: number, length?: number): T; BYTES_PER_ELEMENT: number };

/** A zeroed typed array over a SharedArrayBuffer, padded to 8 bytes as Arrow wants. */
export function allocShared<T>(ctor: TypedCtor<T>, length: number): T {
  const bytes = Math.max(8, Math.ceil((length * ctor.BYTES_PER_ELEMENT) / 8) * 8);
  return new ctor(new SharedArrayBuffer(bytes), 0, length);
}
