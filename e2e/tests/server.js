// Starts `photodesk demo` on a free port with a fresh data folder and a
// headless Debian chromium; both are stopped by `stop()`.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import puppeteer from 'puppeteer-core';

export const SLUG = 'photos-putin-visits-chinas-harbin';
const ROOT = resolve(import.meta.dirname, '..', '..');
const BINARY = process.env.PHOTODESK_BIN || join(ROOT, 'target', 'release', 'photodesk');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

/** An editor account the tests log in with. */
export const EDITOR = { name: 'edna', password: 'editor passphrase' };

export async function start() {
  const data = mkdtempSync(join(tmpdir(), 'photodesk-e2e-'));
  execFileSync(BINARY, ['--data-dir', data, 'user', 'add', EDITOR.name, '--role', 'editor'], {
    env: { ...process.env, PHOTODESK_PASSWORD: EDITOR.password, PHOTODESK_LOG: 'warn' },
  });
  const child = spawn(BINARY, ['--data-dir', data, 'demo', '--listen', '127.0.0.1:0'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, PHOTODESK_LOG: 'warn' },
  });
  const base = await new Promise((ok, fail) => {
    let out = '';
    const timer = setTimeout(() => fail(new Error(`photodesk did not start: ${out}`)), 120_000);
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const found = out.match(/serving (http:\/\/[\d.:]+)/);
      if (found) { clearTimeout(timer); ok(found[1]); }
    });
    child.on('error', fail);
    child.on('exit', (code) => fail(new Error(`photodesk exited with ${code}: ${out}`)));
  });
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  });
  return {
    base,
    browser,
    data,
    async stop() {
      await browser.close();
      child.kill('SIGTERM');
      await new Promise((ok) => child.once('exit', ok));
      rmSync(data, { recursive: true, force: true });
    },
  };
}
