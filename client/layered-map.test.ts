import { describe, expect, it } from "vitest";
import { LayeredMap } from "./layered-map.js";

describe("LayeredMap", () => {
  it("a fork reads through and writes only to itself until absorbed", () => {
    const base = new LayeredMap<string, number>();
    base.set("a", 1);
    base.set("b", 2);
    const fork = base.fork();
    fork.set("b", 20);
    fork.set("c", 30);
    expect([base.get("b"), base.has("c"), base.size]).toEqual([2, false, 2]);
    expect([fork.get("a"), fork.get("b"), fork.get("c"), fork.size]).toEqual([1, 20, 30, 3]);
    expect([...fork.entries()]).toEqual([["a", 1], ["b", 20], ["c", 30]]);
    base.absorb(fork);
    expect([...base.entries()]).toEqual([["a", 1], ["b", 20], ["c", 30]]);
    expect(base.size).toBe(3);
  });
  it("a fork of a fork reads through to the root once its parent is absorbed, and absorbs in order", () => {
    const root = new LayeredMap<string, number>();
    root.set("x", 0);
    const f1 = root.fork();
    f1.set("x", 1);
    f1.set("y", 1);
    const f2 = f1.fork();
    f2.set("y", 2);
    f2.set("z", 2);
    root.absorb(f1);
    expect([root.get("x"), root.get("y")]).toEqual([1, 1]);
    expect([f2.get("x"), f2.get("y"), f2.get("z"), f2.size]).toEqual([1, 2, 2, 3]);
    root.absorb(f2);
    expect([...root.entries()]).toEqual([["x", 1], ["y", 2], ["z", 2]]);
    // Dropping a fork leaves the root as it was.
    const dropped = root.fork();
    dropped.set("x", 99);
    expect(root.get("x")).toBe(1);
  });
});
