// The editor in a real browser: log in, create a story, upload photos whose
// IPTC captions prefill the slides, reorder from the keyboard, publish, and
// find the story on the home page in the new order. Captions carrying markup
// must never run as script.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { start, EDITOR } from './server.js';

const PHOTOS = resolve(import.meta.dirname, '..', '..', 'examples', 'harbin', 'photos');
const CAPTIONS = [
  'Ледяные скульптуры на фестивале в Харбине.',
  '<img src=x onerror="window.__xss=1"><script>window.__xss=1</script> Skaters & "friends"',
  '哈尔滨冰雪大世界的夜景。',
];

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** axe-core's violations on the page as it is now. */
async function violations(page) {
  await page.evaluate(AXE);
  const result = await page.evaluate(() => axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] },
  }));
  return result.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
}

let site;
before(async () => { site = await start(); });
after(async () => { await site?.stop(); });

/** Three demo photos with the captions above written into their IPTC/XMP. */
function taggedPhotos() {
  const dir = mkdtempSync(join(tmpdir(), 'photodesk-upload-'));
  return ['03-wp-seeding.jpg', '06-wp-sunset.jpg', '09-wp-fig-plate.jpg'].map((name, i) => {
    const file = join(dir, `${i + 1}-${name}`);
    copyFileSync(join(PHOTOS, name), file);
    execFileSync('exiftool', ['-q', '-overwrite_original', '-charset', 'iptc=UTF8', '-codedcharacterset=utf8',
      `-IPTC:Caption-Abstract=${CAPTIONS[i]}`, `-XMP-dc:Description=${CAPTIONS[i]}`, file]);
    return file;
  });
}

test('log in, build a story from uploads, reorder by keyboard, publish', async () => {
  const page = await site.browser.newPage();
  await page.setViewport({ width: 1280, height: 1000 });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${site.base}/edit`);
  assert.match(page.url(), /\/login\?next=\/edit$/);
  assert.deepEqual(await violations(page), [], 'login page');
  await page.type('#name', EDITOR.name);
  await page.type('#password', EDITOR.password);
  await Promise.all([page.waitForNavigation(), page.click('button[type="submit"]')]);
  assert.match(page.url(), /\/edit$/);
  assert.deepEqual(await violations(page), [], 'story list');

  await page.type('#new-headline', 'Photos: Harbin ice festival');
  await Promise.all([page.waitForNavigation(), page.click('form[action="/edit/stories"] button')]);
  assert.match(page.url(), /\/edit\/stories\/\d+$/);
  const id = page.url().split('/').pop();

  const input = await page.$('#files');
  await input.uploadFile(...taggedPhotos());
  await page.waitForFunction(() => document.querySelectorAll('#slides .edit-slide').length === 3, { timeout: 120_000 });
  const prefilled = await page.$$eval('#slides .edit-slide', (items) => items.map((li) => ({
    caption: li.querySelector('[name=caption]').value,
    alt: li.querySelector('[name=alt_text]').value,
    credit: li.querySelector('[name=credit]').value,
  })));
  assert.deepEqual(prefilled.map((s) => s.caption), CAPTIONS, 'captions come from IPTC, in upload order');
  assert.ok(prefilled.every((s) => s.alt && s.credit), 'alt text and credit come from the photos too');
  assert.equal(await page.$$eval('#uploads progress', (bars) => bars.filter((b) => b.value === 100).length), 3);
  assert.deepEqual(await violations(page), [], 'story editor');

  // Keyboard reordering: slide 3 up twice, focus staying on its button.
  await page.focus('#slides .edit-slide:nth-child(3) [data-action="up"]');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.querySelector('#slides .edit-slide:nth-child(2) [name=caption]').value.startsWith('哈尔滨'));
  assert.equal(await page.evaluate(() => document.activeElement.dataset.action), 'up');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.querySelector('#slides .edit-slide:nth-child(1) [name=caption]').value.startsWith('哈尔滨'));
  assert.match(await page.$eval('#message', (m) => m.textContent), /Moved to position 1 of 3/);

  // An edited caption is saved when the field is left.
  const caption = await page.$('#slides .edit-slide:nth-child(3) [name=caption]');
  await caption.focus();
  await caption.evaluate((t) => t.select());
  await caption.type('Edited in place.');
  await page.keyboard.press('Tab');
  await page.waitForFunction(() => /Slide 3 saved/.test(document.querySelector('#message').textContent));

  await page.click('#publish');
  await page.waitForFunction(() => document.querySelector('#status').textContent === 'published');

  const home = await site.browser.newPage();
  await home.goto(site.base + '/');
  const link = await home.$$eval('.teaser a', (as) => as.map((a) => [a.textContent.trim(), a.getAttribute('href')]).find(([t]) => t.includes('Harbin ice festival')));
  assert.ok(link, 'the story is on the home page');
  await home.goto(site.base + link[1]);
  const order = await home.$$eval('.slide .caption', (c) => c.map((e) => e.textContent));
  assert.deepEqual(order, [CAPTIONS[2], CAPTIONS[0], 'Edited in place.']);
  assert.equal(await home.evaluate(() => window.__xss), undefined, 'no caption ran as script');
  await home.close();

  // Markup in a caption is text in the editor too.
  await page.reload();
  assert.equal(await page.evaluate(() => window.__xss), undefined);
  assert.equal(await page.$$eval('#slides img[src="x"]', (imgs) => imgs.length), 0);
  assert.equal(await page.$eval('#slides .edit-slide:nth-child(2) [name=caption]', (t) => t.value), CAPTIONS[0]);
  assert.deepEqual(errors, []);

  // Text typed but not saved is not lost silently: leaving asks first.
  await page.type('#headline', ' (draft text)');
  const asked = new Promise((ok, fail) => {
    setTimeout(() => fail(new Error('no beforeunload prompt')), 10_000);
    page.once('dialog', async (dialog) => { ok(dialog.type()); await dialog.accept(); });
  });
  page.goto(`${site.base}/`).catch(() => {});
  assert.equal(await asked, 'beforeunload');
  await page.close();
  assert.ok(id);
});

/** A demo photo with an XMP packet cut off mid-element, as in a damaged file. */
function damagedPhoto() {
  const jpeg = readFileSync(join(PHOTOS, '03-wp-seeding.jpg'));
  const packet = Buffer.from('http://ns.adobe.com/xap/1.0/\0<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description dc:description="Cut o');
  const header = Buffer.from([0xFF, 0xE1, (packet.length + 2) >> 8, (packet.length + 2) & 0xFF]);
  const file = join(mkdtempSync(join(tmpdir(), 'photodesk-upload-')), 'damaged.jpg');
  writeFileSync(file, Buffer.concat([jpeg.subarray(0, 2), header, packet, jpeg.subarray(2)]));
  return file;
}

test('an upload whose metadata cannot be read is added with a visible warning', async () => {
  const page = await site.browser.newPage();
  await page.goto(`${site.base}/edit`);
  if (page.url().includes('/login')) {
    await page.type('#name', EDITOR.name);
    await page.type('#password', EDITOR.password);
    await Promise.all([page.waitForNavigation(), page.click('button[type="submit"]')]);
  }
  await page.type('#new-headline', 'Photos: a damaged file');
  await Promise.all([page.waitForNavigation(), page.click('form[action="/edit/stories"] button')]);
  await (await page.$('#files')).uploadFile(damagedPhoto());
  await page.waitForFunction(() => document.querySelectorAll('#slides .edit-slide').length === 1, { timeout: 120_000 });
  await page.waitForFunction(() => /: added/.test(document.querySelector('#uploads li span').textContent));
  const row = await page.$eval('#uploads li', (li) => ({ text: li.textContent, flagged: li.classList.contains('is-error') }));
  assert.match(row.text, /damaged\.jpg: added; its XMP metadata is not well-formed XML/);
  assert.ok(row.flagged, 'the warning is shown like an error');
  await page.close();
});
