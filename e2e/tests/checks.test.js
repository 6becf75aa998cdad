// Standards checks on the reader pages: axe-core (accessibility) with and
// without script, the Nu HTML Checker (markup), feedparser (feeds).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { start, SLUG } from './server.js';

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const VNU = require.resolve('vnu-jar/build/dist/vnu.jar');

let site;
before(async () => { site = await start(); });
after(async () => { await site?.stop(); });

async function axe(path, { javascript, viewer = false }) {
  const page = await site.browser.newPage();
  if (!javascript) {
    // The page as it is without script: the slideshow never loads and the
    // `js` class set in the head is taken back. (axe itself needs script.)
    await page.setRequestInterception(true);
    page.on('request', (r) => (r.url().includes('/assets/slideshow.') ? r.abort() : r.continue()));
  }
  await page.goto(site.base + path, { waitUntil: 'load' });
  if (!javascript) await page.evaluate(() => document.documentElement.classList.remove('js'));
  if (viewer) {
    await page.click('.slide.is-current .slide-photo');
    await page.waitForFunction(() => document.querySelector('dialog.viewer').open);
  }
  // DevTools evaluation runs even where the page's own scripts may not.
  await page.evaluate(AXE);
  const result = await page.evaluate(() => axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] },
  }));
  await page.close();
  return result.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
}

for (const [name, path] of [['home', '/'], ['story', `/stories/${SLUG}`], ['slide', `/stories/${SLUG}/7`]]) {
  for (const javascript of [true, false]) {
    test(`axe-core finds no violations on the ${name} page ${javascript ? 'enhanced' : 'without JavaScript'}`, async () => {
      assert.deepEqual(await axe(path, { javascript }), []);
    });
  }
}

test('axe-core finds no violations in the open full-screen viewer', async () => {
  assert.deepEqual(await axe(`/stories/${SLUG}/2`, { javascript: true, viewer: true }), []);
});

test('the Nu HTML Checker reports no errors on home, story and slide pages', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'photodesk-vnu-'));
  const files = [];
  for (const [name, path] of [['home', '/'], ['home-2', '/?page=1'], ['story', `/stories/${SLUG}`], ['slide', `/stories/${SLUG}/12`]]) {
    const response = await fetch(site.base + path);
    assert.equal(response.status, 200, path);
    const file = join(dir, `${name}.html`);
    writeFileSync(file, await response.text());
    files.push(file);
  }
  let report;
  try {
    report = execFileSync('java', ['-jar', VNU, '--errors-only', '--format', 'json', ...files], { encoding: 'utf8', stdio: 'pipe' });
  } catch (err) {
    report = err.stderr;  // vnu exits 1 and writes its JSON report to stderr when it finds errors
  }
  const messages = report.trim() ? JSON.parse(report).messages : [];
  const errors = messages.filter((m) => m.type === 'error').map((m) => `${m.url}:${m.lastLine}: ${m.message}`);
  assert.deepEqual(errors, []);
});

test('the RSS and Atom feeds parse in feedparser with Media RSS for every slide', async () => {
  const script = `
import json, sys, urllib.request, feedparser
out = {}
for path in ("/feed.rss", "/feed.atom"):
    body = urllib.request.urlopen(sys.argv[1] + path).read()
    feed = feedparser.parse(body)
    entry = feed.entries[0]
    out[path] = {
        "bozo": feed.bozo, "error": str(feed.get("bozo_exception", "")), "version": feed.version,
        "entries": len(feed.entries), "title": entry.title, "link": entry.link,
        "media": len(entry.get("media_content", [])),
        "credits": [c.get("content") for c in entry.get("media_credit", [])],
        "thumbnails": len(entry.get("media_thumbnail", [])),
    }
print(json.dumps(out))`;
  const parsed = JSON.parse(execFileSync('python3', ['-c', script, site.base], { encoding: 'utf8' }));
  const page = await site.browser.newPage();
  await page.goto(`${site.base}/stories/${SLUG}`);
  const credits = await page.$$eval('.slide .credit', (c) => c.map((e) => e.textContent));
  const headline = await page.$eval('h1', (h) => h.textContent);
  await page.close();
  for (const [path, feed] of Object.entries(parsed)) {
    assert.ok(!feed.bozo, `${path}: ${feed.error}`);
    assert.match(feed.version, path.endsWith('rss') ? /^rss20$/ : /^atom10$/);
    assert.equal(feed.entries, 1);
    assert.equal(feed.title, headline);
    assert.equal(feed.link, `${site.base}/stories/${SLUG}`);
    assert.equal(feed.media, 12, `${path}: media:content per slide`);
    assert.ok(feed.thumbnails >= 1);
    assert.deepEqual(feed.credits.filter(Boolean), credits, `${path}: media:credit equals the visible credits`);
  }
});

test('sitemap and robots.txt point search engines at every story and its photos', async () => {
  const robots = await (await fetch(`${site.base}/robots.txt`)).text();
  assert.match(robots, new RegExp(`Sitemap: ${site.base}/sitemap.xml`));
  const sitemap = await (await fetch(`${site.base}/sitemap.xml`)).text();
  assert.ok(sitemap.includes(`<loc>${site.base}/stories/${SLUG}</loc>`));
  assert.equal(sitemap.match(/<image:loc>/g).length, 12);
});

/** AVIF renditions are made in the background after import: waits for them. */
async function avifReady() {
  for (let tries = 0; tries < 240; tries++) {
    const story = await (await fetch(`${site.base}/api/v1/stories/${SLUG}`)).json();
    if (story.slides.every((s) => s.photo.renditions.some((r) => r.format === 'avif'))) return;
    await new Promise((ok) => setTimeout(ok, 500));
  }
  throw new Error('AVIF renditions were not made within 2 minutes');
}

test('credit and copyright read the same in the page, JSON-LD, Media RSS and the rendition files', async () => {
  await avifReady();
  await new Promise((ok) => setTimeout(ok, 1100)); // past the page cache's second
  const page = await site.browser.newPage();
  await page.setCacheEnabled(false); // pages may be cached for a minute; this one must be fresh
  await page.goto(`${site.base}/stories/${SLUG}`);
  const slides = await page.$$eval('.slide', (all) => all.map((s) => ({
    credit: s.querySelector('.credit').textContent,
    // One rendition per format, as the browser would pick them.
    files: [...s.querySelectorAll('source')].map((x) => x.srcset.split(',')[0].trim().split(' ')[0])
      .concat([s.querySelector('img').getAttribute('src')]),
  })));
  const ld = await page.$eval('script[type="application/ld+json"]', (e) => JSON.parse(e.textContent));
  const rss = await page.evaluate(async () => {
    const xml = new DOMParser().parseFromString(await (await fetch('/feed.rss')).text(), 'application/xml');
    const ns = 'http://search.yahoo.com/mrss/';
    return [...xml.getElementsByTagNameNS(ns, 'content')].map((c) => ({
      credit: c.getElementsByTagNameNS(ns, 'credit')[0]?.textContent,
      copyright: c.getElementsByTagNameNS(ns, 'copyright')[0]?.textContent,
    }));
  });
  await page.close();
  const images = ld.hasPart.associatedMedia;
  assert.equal(slides.length, 12);
  const dir = mkdtempSync(join(tmpdir(), 'photodesk-credit-'));
  for (const [i, slide] of slides.entries()) {
    const image = images[i];
    assert.ok(slide.credit && image.copyrightNotice, `slide ${i + 1} has a credit and a copyright`);
    assert.equal(image.creditText, slide.credit, `slide ${i + 1}: JSON-LD credit`);
    assert.deepEqual(rss[i], { credit: slide.credit, copyright: image.copyrightNotice }, `slide ${i + 1}: Media RSS`);
    assert.equal(slide.files.length, 3, `slide ${i + 1}: AVIF, WebP and JPEG`);
    const files = [];
    for (const [n, url] of slide.files.entries()) {
      const file = join(dir, `${i}-${n}${url.slice(url.lastIndexOf('.'))}`);
      writeFileSync(file, Buffer.from(await (await fetch(site.base + url)).arrayBuffer()));
      files.push(file);
    }
    const tags = JSON.parse(execFileSync('exiftool', ['-j', '-G1', '-XMP-photoshop:Credit', '-XMP-dc:Rights', '-EXIF:Copyright', ...files], { encoding: 'utf8' }));
    for (const found of tags) {
      const kind = found.SourceFile.slice(found.SourceFile.lastIndexOf('.') + 1);
      assert.equal(found['IFD0:Copyright'], image.copyrightNotice, `slide ${i + 1} ${kind}: EXIF copyright`);
      assert.equal(found['XMP-photoshop:Credit'], slide.credit, `slide ${i + 1} ${kind}: XMP credit`);
      assert.equal(found['XMP-dc:Rights'], image.copyrightNotice, `slide ${i + 1} ${kind}: XMP rights`);
    }
  }
});
