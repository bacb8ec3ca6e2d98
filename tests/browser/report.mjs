// Opens a `funnel report` page in Debian's chromium (through playwright-core) with the
// network off, at a desktop and a phone width, with script on and off. Prints one JSON
// object: console messages, page errors, requests that tried to leave the machine,
// axe-core's violations, what the member search did, what print shows, and whether
// the page works without script. With a screenshot folder, writes one PNG per section and width.
//
// node report.mjs PAGE.html DOM_OUT.html [SCREENSHOT_DIR]
import { chromium } from 'playwright-core';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const [page_path, dom_out, shots] = process.argv.slice(2);
const require = createRequire(import.meta.url);
const axe = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const url = pathToFileURL(page_path).href;

// playwright gives every launch a fresh profile (--user-data-dir) of its own.
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const offline = async (page) => page.route('**/*', (r) => {
  if (r.request().url().startsWith('file:')) return r.continue();
  out.remote.push(r.request().url());
  return r.abort();
});
const out = { console: [], errors: [], remote: [], axe: [], search: null, print: null, noscript: null, widths: [] };
const widths = [['desktop', 1280, 900], ['phone', 390, 844]];
try {
  for (const [name, width, height] of widths) {
    const page = await browser.newPage({ viewport: { width, height } });
    await offline(page);
    page.on('console', (m) => out.console.push(`${name} ${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => out.errors.push(`${name}: ${e.message}`));
    await page.goto(url, { waitUntil: 'load' });
    if (name === 'desktop') writeFileSync(dom_out, await page.content());
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    out.widths.push({ name, overflow });
    if (shots) {
      const ids = await page.$$eval('main > section', (ss) => ss.map((s) => s.id));
      for (const id of ids) {
        const box = await page.locator('#' + id).boundingBox();
        if (!box) continue;
        const top = Math.max(0, box.y - 8);
        const clip = { x: 0, y: top, width, height: Math.min(box.height + 16, name === 'phone' ? 1400 : 1100) };
        await page.screenshot({ path: join(shots, `report-${id}-${name}.png`), clip, fullPage: true });
      }
      const head = { x: 0, y: 0, width, height: name === 'phone' ? 1400 : 1000 };
      await page.screenshot({ path: join(shots, `report-top-${name}.png`), clip: head, fullPage: true });
    }
    await page.addScriptTag({ content: axe });
    const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
    for (const v of result.violations) {
      out.axe.push({ width: name, id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length,
        first: v.nodes[0] && v.nodes[0].target.join(' ') });
    }
    if (name === 'desktop') {
      // The member search: a term that is in some member rows and not in others.
      const rows = await page.$$eval('details.members tbody tr', (rs) => rs.length);
      const term = await page.$eval('details.members tbody tr th code', (c) => c.textContent);
      await page.fill('#member-search', term);
      const visible = await page.$$eval('details.members tbody tr', (rs) => rs.filter((r) => !r.hidden).length);
      const opened = await page.$$eval('details.members[open]', (ds) => ds.length);
      const status = await page.textContent('#member-status');
      out.search = { rows, term, visible, opened, status };
      // Print: no navigation or search box; printing opens every folded part.
      await page.emulateMedia({ media: 'print' });
      const nav = await page.isVisible('nav');
      const box = await page.isVisible('.search');
      await page.evaluate(() => window.dispatchEvent(new Event('beforeprint')));
      const closed = await page.$$eval('details:not([open])', (ds) => ds.length);
      out.print = { nav, box, closed };
    }
    await page.close();
  }
  // Without script: the search box stays hidden, every member table is in the page,
  // and a folded list opens from the keyboard.
  const plain = await (await browser.newContext({ javaScriptEnabled: false })).newPage();
  await offline(plain);
  await plain.goto(url, { waitUntil: 'load' });
  const search_shown = await plain.isVisible('.search');
  const tables = await plain.$$eval('details.members table', (ts) => ts.length);
  await plain.focus('details.members summary');
  await plain.keyboard.press('Enter');
  const opened = await plain.$$eval('details.members[open]', (ds) => ds.length);
  out.noscript = { search_shown, tables, opened };
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(out) + '\n');
