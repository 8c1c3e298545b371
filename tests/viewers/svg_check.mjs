// Opens a flame graph SVG in headless Chromium and drives it as a user
// would: the view from the URL fragment (search, ignore case, icicle),
// a click that zooms and lands in the fragment, no script errors.
//   node svg_check.mjs PLAYWRIGHT_DIR CHROMIUM FILE.svg TERM
// Prints a JSON line; exits 1 when something did not work, 2 on bad usage.
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [pwdir, chromium, file, term] = process.argv.slice(2);
if (!pwdir || !chromium || !file || !term) {
  console.error('usage: node svg_check.mjs PLAYWRIGHT_DIR CHROMIUM FILE.svg TERM');
  process.exit(2);
}
const require = createRequire(resolve(pwdir, 'package.json'));
const { chromium: pw } = require('playwright-core');
const browser = await pw.launch({ executablePath: chromium, headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
const errors = [];
const out = {};
try {
  const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  const url = pathToFileURL(resolve(file)).href;
  await page.goto(`${url}#s=${encodeURIComponent(term.toUpperCase())}&i=1&v=1`);
  await page.waitForTimeout(300);
  out.matched = await page.evaluate(() => document.getElementById('matched').textContent);
  out.invert_button = await page.evaluate(() => document.getElementById('invert').textContent);
  out.case_button = await page.evaluate(() => document.getElementById('icase').textContent);
  // icicle: the root frame ("all") above its children
  out.root_on_top = await page.evaluate(() => {
    const gs = [...document.querySelectorAll('#frames > g')];
    const y = (g) => parseFloat(g.querySelector('rect').getAttribute('y'));
    const all = gs.find((g) => g.getAttribute('data-n') === 'all');
    return gs.every((g) => g === all || y(g) > y(all));
  });
  // a click on the widest child of the root zooms into it, kept in the fragment
  await page.evaluate(() => {
    const gs = [...document.querySelectorAll('#frames > g')];
    const w = (g) => parseFloat(g.querySelector('rect').getAttribute('width'));
    const all = gs.find((g) => g.getAttribute('data-n') === 'all');
    const child = gs.filter((g) => g !== all).sort((a, b) => w(b) - w(a))[0];
    child.querySelector('rect').dispatchEvent(new MouseEvent('click', { bubbles: true }));
  });
  await page.waitForTimeout(200);
  out.hash = await page.evaluate(() => location.hash);
  out.unzoom_visible = await page.evaluate(() => document.getElementById('unzoom').style.opacity === '1');
} finally {
  await browser.close();
}
out.errors = errors;
const ok = errors.length === 0 && /^Matched: [1-9]/.test(out.matched) && out.invert_button === 'Flame' &&
  out.case_button === 'ic: on' && out.root_on_top && /z=\d+/.test(out.hash) && /s=/.test(out.hash) &&
  /v=1/.test(out.hash) && out.unzoom_visible;
console.log(JSON.stringify({ file, ok, ...out }));
process.exit(ok ? 0 : 1);
