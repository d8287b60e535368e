// The same transform by sharp: resize (shrink-on-load), optional cover crop at the centre, and
// the requested format at the same nominal quality. Effort is sharp's default unless given.
import sharp from "sharp";
import { readFileSync, writeFileSync } from "node:fs";

const [input, query, runsArg = "9", warmupArg = "2", out, effortArg] = process.argv.slice(2);
const q = Object.fromEntries(new URLSearchParams(query));
const buf = readFileSync(input);
const runs = Number(runsArg), warmup = Number(warmupArg);
const w = q.w ? Number(q.w) : null, h = q.h ? Number(q.h) : null;
const quality = Number(q.q || 80);
const fit = q.fit === "cover" ? "cover" : q.fit === "contain" ? "contain" : "inside";
const effort = effortArg === undefined ? {} : { effort: Number(effortArg) };
const times = [], cpu = [];
let last;
for (let i = 0; i < runs + warmup; i++) {
  const t = performance.now();
  const c = process.cpuUsage();
  let p = sharp(buf, { limitInputPixels: 50_000_000 }).rotate().resize(w, h, { fit, withoutEnlargement: fit === "inside" });
  p = q.format === "avif" ? p.avif({ quality, ...effort }) : q.format === "webp" ? p.webp({ quality, ...effort }) : q.format === "png" ? p.png() : p.jpeg({ quality });
  last = await p.toBuffer({ resolveWithObject: true });
  if (i >= warmup) {
    times.push(performance.now() - t);
    const d = process.cpuUsage(c);
    cpu.push((d.user + d.system) / 1000);
  }
}
if (out) writeFileSync(out, last.data);
const hwm = Number(/VmHWM:\s+(\d+)/.exec(readFileSync("/proc/self/status", "utf8"))[1]);
console.log(JSON.stringify({ peak_rss_kb: hwm, times_ms: times, cpu_ms: cpu, width: last.info.width, height: last.info.height, bytes: last.data.length, type: `image/${last.info.format}` }));
