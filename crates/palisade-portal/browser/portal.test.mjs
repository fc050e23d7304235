// Browser tests of the portal in real headless Chromium (Debian's
// `chromium`), driven by playwright-core. tests/browser.rs starts a server
// with the demo data and runs this with:
//   PORTAL_URL      the server's base URL
//   SCREENSHOT_DIR  where each step saves its screenshot
//   CHROMIUM        the browser (default /usr/bin/chromium)
// Steps run in order and share the server's state.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const base = process.env.PORTAL_URL;
const shots = process.env.SCREENSHOT_DIR ?? 'screenshots';
const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';
assert.ok(base, 'PORTAL_URL is not set');
mkdirSync(shots, { recursive: true });

let browser;
const state = {};

before(async () => {
  browser = await chromium.launch({
    executablePath,
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  });
});

after(async () => {
  await browser?.close();
});

async function signIn(username) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await page.goto(`${base}/`);
  assert.match(page.url(), /\/login\?next=/);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(`${username}-demo-password`);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.waitForURL(`${base}/`);
  return { context, page };
}

async function shot(page, name) {
  await page.screenshot({ path: join(shots, name), fullPage: true });
}

test('signs in, with a skip link first in the tab order', async () => {
  const { context, page } = await signIn('alice');
  await assert.doesNotReject(page.getByTestId('who').getByText('Alice (payments)').waitFor());
  await page.keyboard.press('Tab');
  const focused = await page.evaluate(() => document.activeElement?.textContent?.trim());
  assert.equal(focused, 'Skip to main content');
  await shot(page, '01-signed-in.png');
  state.alice = { context, page };
});

test('sees the trend chart, with its text alternative', async () => {
  const { page } = state.alice;
  const chart = page.locator('svg#trend-chart');
  await chart.waitFor();
  assert.equal(await chart.getAttribute('role'), 'img');
  const title = await chart.locator('title').textContent();
  assert.equal(title, 'Open findings per day');
  const desc = await chart.locator('desc').textContent();
  assert.match(desc, /^Open findings: \d+ on /);
  assert.ok((await chart.locator('polyline.line').getAttribute('points')).split(' ').length >= 30);
  const summary = page.getByText('Data table: Open findings per day');
  await summary.click();
  assert.ok((await page.locator('figure.chart table.data tbody tr').count()) >= 30);
  await summary.click();
  await shot(page, '02-overview.png');
});

test('opens a workload and sees what to fix first', async () => {
  const { page } = state.alice;
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Workloads' }).click();
  await page.locator('table tbody tr th a[href^="/workloads/"]').first().click();
  await page.getByRole('heading', { name: 'Fix first' }).waitFor();
  await page.getByRole('heading', { name: 'In each environment' }).waitFor();
  assert.match(await page.locator('h1').textContent(), /^Workload /);
  state.workloadUrl = page.url();
  await shot(page, '03-workload.png');
});

test('triages a finding and sees it in the history', async () => {
  const { page } = state.alice;
  await page.locator('table.findings a[href^="/findings/"]').first().click();
  await page.getByRole('heading', { name: 'Triage' }).waitFor();
  await page.getByLabel('New state').selectOption('in_triage');
  const comment = `browser: looking into it <b>${Date.now()}</b>`;
  await page.getByLabel('Comment').fill(comment);
  await page.getByRole('button', { name: 'Save triage' }).click();
  await page.waitForURL(/#history$/);
  const history = page.locator('section', { has: page.getByRole('heading', { name: 'History' }) });
  await history.getByText(comment).waitFor();
  assert.ok(await history.getByText('user:alice').count() >= 1);
  state.findingUrl = page.url().replace(/#history$/, '');
  await shot(page, '04-triaged.png');
});

test('requests an exception as alice, who cannot approve it', async () => {
  const { page } = state.alice;
  await page.getByRole('link', { name: 'Request an exception for this vulnerability' }).click();
  await page.getByLabel('Reason').fill('Upgrade is scheduled; the code path is behind a feature flag.');
  await page.getByRole('button', { name: 'Request exception' }).click();
  await page.waitForURL(/\/exceptions\/[0-9a-z]+$/);
  await page.getByText('pending', { exact: true }).first().waitFor();
  assert.equal(await page.getByRole('button', { name: /^Approve/ }).count(), 0);
  state.exceptionUrl = page.url();
  await shot(page, '05-exception-requested.png');
  await state.alice.context.close();
});

test('sam approves alice\'s exception as the second person', async () => {
  const { context, page } = await signIn('sam');
  await page.goto(state.exceptionUrl);
  await page.getByRole('button', { name: /^Approve/ }).click();
  await page.waitForURL(state.exceptionUrl);
  await page.getByText('active', { exact: true }).first().waitFor();
  await page.getByRole('cell', { name: 'approved', exact: true }).waitFor();
  await shot(page, '06-exception-approved.png');
  state.sam = { context, page };
});

test('sam cannot approve an exception he requested himself', async () => {
  const { page } = state.sam;
  await page.goto(`${base}/exceptions`);
  await page.getByLabel('Policy (e.g. palisade.vulnerabilities)').fill('palisade.slsa_provenance');
  await page.getByLabel('Reason').fill('Builder migration this week.');
  await page.getByRole('button', { name: 'Request exception' }).click();
  await page.waitForURL(/\/exceptions\/[0-9a-z]+$/);
  await page.getByText('You requested it: a second person must approve.').waitFor();
  const response = page.waitForResponse((r) => r.url().endsWith('/approve'));
  await page.getByRole('button', { name: /^Approve/ }).click();
  assert.equal((await response).status(), 403);
  await page.getByTestId('error').getByText(/a second person must/).waitFor();
  await page.getByText('pending', { exact: true }).first().waitFor();
  await shot(page, '07-self-approval-refused.png');
  await state.sam.context.close();
});
