/**
 * node:crypto where the runtime offers it synchronously
 * (process.getBuiltinModule, Node ≥ 20.16), without importing it: client/
 * stays browser-safe, and in browsers this is undefined. Only the calls the
 * client makes are typed.
 */
export interface NodeCrypto {
  createHash(alg: string): { update(b: Uint8Array): { digest(): Uint8Array } };
  verify(alg: string, data: Uint8Array, key: { key: Uint8Array; format: "der"; type: "spki" }, sig: Uint8Array): boolean;
}

export const nodeCrypto = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule?.("node:crypto") as NodeCrypto | undefined;
