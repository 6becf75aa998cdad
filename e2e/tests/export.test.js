// The static export (`photodesk export`) served by a plain file server:
// the pages, the slideshow and the images work with no Photodesk running.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import puppeteer from 'puppeteer-core';
import { SLUG } from './server.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const BINARY = process.env.PHOTODESK_BIN || join(ROOT, 'target', 'release', 'photodesk');
const DEMO = join(ROOT, 'examples', 'harbin');

let dir, server, browser, base;

async function freePort() {
  const probe = createServer();
  await new Promise((ok) => probe.listen(0, '127.0.0.1', ok));
  const { port } = probe.address();
  await new Promise((ok) => probe.close(ok));
  return port;
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'photodesk-export-'));
  const env = { ...process.env, PHOTODESK_LOG: 'warn' };
  const data = join(dir, 'data');
  execFileSync(BINARY, ['--data-dir', data, 'import', join(DEMO, 'story.txt'),
    '--photos', join(DEMO, 'photos'), '--publish'], { env });
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  execFileSync(BINARY, ['--data-dir', data, '--base-url', base, 'export', '--out', join(dir, 'site')], { env });
  // Python's file server: nothing of Photodesk answers these requests.
  server = spawn('python3', ['-m', 'http.server', String(port), '--bind', '127.0.0.1',
    '--directory', join(dir, 'site')], { stdio: 'ignore' });
  for (let tries = 0; ; tries++) {
    try { await fetch(base + '/'); break; } catch (e) {
      if (tries > 100) throw e;
      await new Promise((ok) => setTimeout(ok, 100));
    }
  }
  browser = await puppeteer.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  });
});

after(async () => {
  await browser?.close();
  server?.kill();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('the exported site works from a plain file server: pages, slideshow, images', async () => {
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 900 });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  const failed = [];
  page.on('response', (r) => { if (r.status() >= 400) failed.push(`${r.status()} ${r.url()}`); });

  await page.goto(base + '/', { waitUntil: 'load' });
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click('.teaser a')]);
  assert.equal(new URL(page.url()).pathname, `/stories/${SLUG}/`);

  await page.goto(`${base}/stories/${SLUG}/5`, { waitUntil: 'load' });
  const shown = () => page.$$eval('.slide', (all) => all
    .filter((f) => f.getBoundingClientRect().height > 0)
    .map((f) => f.querySelector('.counter').textContent.trim()));
  assert.deepEqual(await shown(), ['5 / 12']);
  await page.click('.slideshow-next');
  assert.deepEqual(await shown(), ['6 / 12']);
  // The slide URL the address bar now shows is a page of the export too.
  const url = page.url();
  assert.equal(new URL(url).pathname, `/stories/${SLUG}/6`);
  await page.goto(url, { waitUntil: 'load' });
  assert.deepEqual(await shown(), ['6 / 12']);
  await page.waitForFunction(() => {
    const img = document.querySelector('#slide-6 img');
    return img.complete && img.naturalWidth > 0;
  });
  // The browser picked a rendition of the export, not an original: the
  // AVIF, first in the <picture>, whose metadata items it reads past.
  assert.match(await page.$eval('#slide-6 img', (i) => i.currentSrc), /\/renditions\/.+\.avif$/);
  assert.deepEqual(failed, []);
  assert.deepEqual(errors, []);
  await page.close();
});
