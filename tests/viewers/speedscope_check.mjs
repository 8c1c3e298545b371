// Opens profiles in the real speedscope app (the npm package's release
// build, served on localhost) in headless Chromium, as a user would open
// them, and reports what the app said: import warnings and errors on the
// console, page errors, and the profile it shows.
//   node speedscope_check.mjs SPEEDSCOPE_DIST CHROMIUM FILE...
// Prints one JSON line per file; exits 1 when any file had a warning or
// error or did not load, 2 on bad usage.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import { createRequire } from 'node:module';

const [dist, chromium, ...files] = process.argv.slice(2);
if (!dist || !chromium || files.length === 0) {
  console.error('usage: node speedscope_check.mjs SPEEDSCOPE_DIST CHROMIUM FILE...');
  process.exit(2);
}
const require = createRequire(resolve(dist, '..', '..', '..', 'package.json'));
const { chromium: pw } = require('playwright-core');

const types = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css',
  '.json': 'application/json', '.wasm': 'application/wasm', '.woff2': 'font/woff2' };
const served = new Map(files.map((f, i) => [`/data/${i}/${basename(f)}`, resolve(f)]));
const server = createServer(async (req, res) => {
  const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
  const file = served.get(path) ?? join(dist, path === '/' ? 'index.html' : path);
  try {
    const body = await readFile(file);
    res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream',
      'access-control-allow-origin': '*' });
    res.end(body);
  } catch {
    res.writeHead(404);
    res.end();
  }
});
await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
const port = server.address().port;
const browser = await pw.launch({ executablePath: chromium, headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
let bad = 0;
try {
  let i = 0;
  for (const f of files) {
    const url = `http://127.0.0.1:${port}/data/${i++}/${basename(f)}`;
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const messages = [];
    // the importer's warnings and errors; not Chromium's own notes about
    // its software GL (a headless machine has no GPU)
    page.on('console', (m) => {
      if ((m.type() === 'warning' || m.type() === 'error') && !/GL Driver Message|WebGL/.test(m.text()))
        messages.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => messages.push(`pageerror: ${e.message}`));
    await page.goto(`http://127.0.0.1:${port}/index.html#profileURL=${encodeURIComponent(url)}`);
    // loaded: the title names the profile ("<name> - speedscope"), as it
    // does once an import succeeded
    let loaded = false;
    try {
      await page.waitForFunction(() => / - speedscope$/.test(document.title), null, { timeout: 30000 });
      loaded = true;
    } catch { /* reported below */ }
    await page.waitForTimeout(500);
    const text = await page.evaluate(() => document.body.innerText);
    const failed = /something went wrong|unrecognized format|error/i.test(text) && !loaded;
    const profiles = (text.match(/\((\d+)\/(\d+)\)/) ?? [])[2] ?? (loaded ? '1' : '0');
    const ok = loaded && !failed && messages.length === 0;
    if (!ok) bad++;
    console.log(JSON.stringify({ file: f, loaded, profiles: Number(profiles), title: await page.title(), messages }));
    await page.close();
  }
} finally {
  await browser.close();
  server.close();
}
process.exit(bad ? 1 : 0);
