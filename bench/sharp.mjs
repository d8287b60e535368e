// sharp's best pipeline for the same job: one decode with shrink-on-load (and EXIF rotation)
// to the largest size, then a cascade to the smaller sizes, WebP q80 effort 4, in parallel.
import sharp from "sharp";
import { readFileSync, writeFileSync } from "node:fs";

const [input, runsArg = "9", warmupArg = "2", outdir] = process.argv.slice(2);
const buf = readFileSync(input);
const sizes = [1024, 512, 128];
const runs = Number(runsArg), warmup = Number(warmupArg);
const times = [], cpu = [], decode = [];
let last = [];
for (let i = 0; i < runs + warmup; i++) {
  const t = performance.now();
  const c = process.cpuUsage();
  const meta = await sharp(buf).metadata();
  const long = Math.max(meta.width, meta.height);
  const wanted = sizes.filter((s) => s < long);
  const { data, info } = await sharp(buf, { limitInputPixels: false }).rotate()
    .resize(wanted[0], wanted[0], { fit: "inside" }).raw().toBuffer({ resolveWithObject: true });
  // Stage one alone (decode with shrink-on-load, rotate, resize to the largest size): the
  // counterpart of our decode + first resize in RESULTS.md's stage profile.
  const decoded = performance.now() - t;
  last = await Promise.all(wanted.map(async (s) => {
    const out = await sharp(data, { raw: info }).resize(s, s, { fit: "inside" }).webp({ quality: 80, effort: 4 }).toBuffer({ resolveWithObject: true });
    return { size: s, width: out.info.width, height: out.info.height, data: out.data };
  }));
  if (i >= warmup) {
    times.push(performance.now() - t);
    decode.push(decoded);
    const d = process.cpuUsage(c);
    cpu.push((d.user + d.system) / 1000);
  }
}
if (outdir) for (const o of last) writeFileSync(`${outdir}/${o.size}.webp`, o.data);
const hwm = Number(/VmHWM:\s+(\d+)/.exec(readFileSync("/proc/self/status", "utf8"))[1]);
console.log(JSON.stringify({ peak_rss_kb: hwm, times_ms: times, cpu_ms: cpu, decode_ms: decode, outputs: last.map((o) => ({ size: o.size, width: o.width, height: o.height, bytes: o.data.length })) }));
