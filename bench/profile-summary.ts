/** Summarizes a V8 .cpuprofile: self time by function and by file, top N. */
import { readFileSync } from "node:fs";

const [file, topArg] = process.argv.slice(2);
const top = Number(topArg ?? 25);
const p = JSON.parse(readFileSync(file!, "utf8")) as { nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount: number }>; startTime: number; endTime: number };
const total = p.nodes.reduce((a, n) => a + n.hitCount, 0);
const byFn = new Map<string, number>();
const byFile = new Map<string, number>();
for (const n of p.nodes) {
  const url = n.callFrame.url.replace(/^file:\/\/\/work\/main\//, "").replace(/.*node_modules\//, "nm/");
  const fn = `${n.callFrame.functionName || "(anon)"} ${url}:${n.callFrame.lineNumber}`;
  byFn.set(fn, (byFn.get(fn) ?? 0) + n.hitCount);
  byFile.set(url || "(native)", (byFile.get(url || "(native)") ?? 0) + n.hitCount);
}
const pct = (x: number) => ((100 * x) / total).toFixed(1).padStart(5) + "%";
console.log(`samples ${total}, ${((p.endTime - p.startTime) / 1e6).toFixed(1)} s`);
console.log("-- by function (self)");
for (const [k, v] of [...byFn].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(pct(v), k);
console.log("-- by file (self)");
for (const [k, v] of [...byFile].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(pct(v), k);
