// Draws the app and tray icons as PNGs with nothing but zlib, so the icons are
// reproducible from this file: `node build/make-icons.mjs`. Output:
//   build/icon.png                      512×512 app icon (electron-builder derives .icns/.ico)
//   electron/assets/tray-<state>.png    16×16, and tray-<state>@2x.png 32×32
// States: idle (grey ring: nothing running), active (green disc), error (red disc with "!").
import { deflateSync, crc32 } from 'node:zlib';
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body) >>> 0);
  return Buffer.concat([len, body, crc]);
}

/** RGBA pixels (width*height*4) to PNG bytes: 8-bit RGBA, no interlace, filter 0 per row. */
function encodePng(width, height, rgba) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // colour type RGBA
  const raw = Buffer.alloc((width * 4 + 1) * height);
  for (let y = 0; y < height; y++) rgba.copy(raw, y * (width * 4 + 1) + 1, y * width * 4, (y + 1) * width * 4);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/**
 * Renders `shade(x, y)` (coordinates in 0..1, returning [r,g,b,a] or null) with
 * 4×4 supersampling, so small icons get smooth edges.
 */
function render(size, shade) {
  const out = Buffer.alloc(size * size * 4);
  const n = 4;
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let r = 0, g = 0, b = 0, a = 0;
      for (let sy = 0; sy < n; sy++) {
        for (let sx = 0; sx < n; sx++) {
          const c = shade((px + (sx + 0.5) / n) / size, (py + (sy + 0.5) / n) / size);
          if (!c) continue;
          const ca = c[3] / 255;
          r += c[0] * ca; g += c[1] * ca; b += c[2] * ca; a += ca;
        }
      }
      const i = (py * size + px) * 4;
      if (a > 0) {
        out[i] = Math.round(r / a); out[i + 1] = Math.round(g / a); out[i + 2] = Math.round(b / a);
      }
      out[i + 3] = Math.round((a / (n * n)) * 255);
    }
  }
  return encodePng(size, size, out);
}

const dist = (x, y, cx, cy) => Math.hypot(x - cx, y - cy);
const GREY = [138, 148, 160, 255];
const GREEN = [47, 191, 113, 255];
const RED = [229, 72, 77, 255];
const WHITE = [255, 255, 255, 255];

const tray = {
  idle: (x, y) => {
    const d = dist(x, y, 0.5, 0.5);
    return d <= 0.42 && d >= 0.27 ? GREY : null;
  },
  active: (x, y) => {
    const d = dist(x, y, 0.5, 0.5);
    if (d > 0.42) return null;
    return d <= 0.14 ? WHITE : GREEN;
  },
  error: (x, y) => {
    if (dist(x, y, 0.5, 0.5) > 0.42) return null;
    const bar = Math.abs(x - 0.5) <= 0.07 && y >= 0.24 && y <= 0.56;
    const dot = dist(x, y, 0.5, 0.71) <= 0.075;
    return bar || dot ? WHITE : RED;
  },
};

/** A dark rounded square; a client node and a broker node joined by a tunnel. */
function appIcon(x, y) {
  const m = 0.06, rad = 0.2;
  const qx = Math.max(Math.abs(x - 0.5) - (0.5 - m - rad), 0);
  const qy = Math.max(Math.abs(y - 0.5) - (0.5 - m - rad), 0);
  if (Math.hypot(qx, qy) > rad) return null;
  const left = dist(x, y, 0.3, 0.5), right = dist(x, y, 0.7, 0.5);
  if (left <= 0.1 || right <= 0.1) return WHITE;
  if (x > 0.3 && x < 0.7 && Math.abs(y - 0.5) <= 0.05) return GREEN;
  return [16, 20, 24, 255];
}

const written = [];
function write(path, bytes) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, bytes);
  written.push(path);
}

write(join(root, 'build', 'icon.png'), render(512, appIcon));
for (const [state, shade] of Object.entries(tray)) {
  write(join(root, 'electron', 'assets', `tray-${state}.png`), render(16, shade));
  write(join(root, 'electron', 'assets', `tray-${state}@2x.png`), render(32, shade));
}
console.log(written.map((p) => p.slice(root.length + 1)).join('\n'));
