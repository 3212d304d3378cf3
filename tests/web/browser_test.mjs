// The browser story (browser_test.sh starts webd): Debian's chromium, headless,
// driven by playwright-core. Usage: node browser_test.mjs BASE_URL SHOTS_DIR CHROMIUM PROFILE_DIR
import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';

const [base, shots, executablePath, profile] = process.argv.slice(2);
mkdirSync(profile, { recursive: true });
const context = await chromium.launchPersistentContext(profile, {
  executablePath,
  headless: true,
  ignoreHTTPSErrors: true, // webd's certificate is the test's own, self-signed
  viewport: { width: 1280, height: 800 },
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync'],
  timeout: 60000,
});
context.setDefaultTimeout(20000);
const page = context.pages()[0] ?? await context.newPage();
const shot = async (name) => page.screenshot({ path: `${shots}/${name}.png`, fullPage: true });
const inDays = (d) => new Date(Date.now() + d * 86400000).toISOString().slice(0, 10);

async function signIn(user, password) {
  await page.goto(`${base}/login`);
  await page.fill('input[name=username]', user);
  await page.fill('input[name=password]', password);
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
}
async function signOut() {
  await Promise.all([page.waitForNavigation(), page.click('nav button')]);
  assert.match(page.url(), /\/login$/);
}

try {
  // 1. The visited operator's staff publishes an Offer.
  await page.goto(`${base}/login`);
  await shot('01-sign-in');
  await signIn('victor', 'victor-Secret-42');
  assert.match(page.url(), /\/my-offers$/);
  await page.click('text=Publish a new Offer');
  await page.fill('input[name=offer_id]', 'FR-DATA-5GB');
  await page.fill('input[name=service]', 'data');
  await page.fill('input[name=coverage]', '2080');  // a typo first: refused with a message
  await page.fill('input[name=data_mb]', '5120');
  await page.fill('input[name=per_mb]', '0.002');
  await page.fill('input[name=price]', '10');
  await page.fill('input[name=term_days]', '30');
  await page.fill('input[name=valid_until]', inDays(90));
  await page.fill('input[name=stock]', '100');
  await Promise.all([page.waitForNavigation(), page.click('form.card button[type=submit]')]);
  assert.match(await page.textContent('.errors'), /'2080' is not a PLMN/);
  await shot('02-visited-offer-refused');
  await page.fill('input[name=coverage]', '20801, 20810');
  await shot('03-visited-new-offer');
  await Promise.all([page.waitForNavigation(), page.click('form.card button[type=submit]')]);
  assert.match(page.url(), /\/my-offers$/);
  assert.match(await page.textContent('main'), /FR-DATA-5GB/);
  await shot('04-visited-my-offers');
  await signOut();

  // 2. The home operator's staff sees it, sets its rate, bundles it, publishes.
  await signIn('alice', 'alice-Secret-4711');
  assert.match(page.url(), /\/offers$/);
  await page.goto(`${base}/settings`);
  await page.fill('input[name=currency]', 'EUR');
  await page.fill('input[name=rate]', '1.2');
  await page.fill('input[name=margin]', '25');
  await Promise.all([page.waitForNavigation(), page.click('form.card button[type=submit]')]);
  await shot('05-home-settings');
  await page.goto(`${base}/offers?mcc=208`);
  assert.match(await page.textContent('tbody'), /FR-DATA-5GB/);
  await shot('06-home-offers');
  await page.check('input[name=offer][value=FR-DATA-5GB]');
  await Promise.all([page.waitForNavigation(), page.click('text=Bundle into a package')]);
  // 10 SDRt x 1.2 EUR/SDRt x 1.25 = 15.00 EUR
  assert.equal(await page.textContent('.price'), '15.00 EUR');
  await page.fill('input[name=name]', 'France 5 GB, 30 days');
  await page.fill('textarea[name=description]', '5 GB of data on Visited A in France, for 30 days.');
  await page.fill('input[name=valid_until]', inDays(60));
  await shot('07-home-package-editor');
  await Promise.all([page.waitForNavigation(), page.click('form.card button[type=submit]')]);
  assert.match(page.url(), /\/packages$/);
  await Promise.all([page.waitForNavigation(), page.click('text=Publish')]);
  assert.match(await page.textContent('tbody'), /published/);
  await shot('08-home-packages');
  await page.goto(`${base}/account`);
  assert.match(await page.textContent('.balance'), /500\.000000 SDRt available/);
  await shot('09-home-account');
  await signOut();

  // 3. The storefront (public) shows the package in EUR.
  await page.goto(`${base}/storefront/HOME-B`);
  assert.match(await page.textContent('main'), /France 5 GB, 30 days/);
  assert.match(await page.textContent('main'), /15\.00 EUR/);
  await shot('10-storefront');

  // 4. A subscriber buys it: declined card first (nothing escrowed), then an approved one.
  await Promise.all([page.waitForNavigation(), page.click('a.buy')]);
  await page.fill('input[name=eid]', '89049032123451234512345678901235');
  await page.fill('input[name=card_number]', '4000 0000 0000 0002');
  await page.fill('input[name=expiry]', '12/30');
  await page.fill('input[name=cvc]', '123');
  await Promise.all([page.waitForNavigation(), page.click('form.card button[type=submit]')]);
  assert.match(await page.textContent('.errors'), /Payment declined: The card was declined\./);
  await shot('11-storefront-declined');
  await page.fill('input[name=card_number]', '4242 4242 4242 4242');
  await page.fill('input[name=cvc]', '123');
  await Promise.all([page.waitForNavigation(), page.click('form.card button[type=submit]')]);
  assert.match(page.url(), /\/storefront\/HOME-B\/orders\/[0-9a-f]{32}$/);
  assert.match(await page.textContent('.order-state'), /paid/);
  assert.match(await page.textContent('tbody'), /WEB-[0-9a-f]{16}\s*FR-DATA-5GB\s*open/);
  await shot('12-storefront-order');

  // 5. The visited operator sees the Request; the home operator's escrow holds its price.
  await signIn('victor', 'victor-Secret-42');
  assert.match(await page.textContent('main'), /HOME-B\s*open\s*10\.000000/);
  await shot('13-visited-incoming-request');
  await signOut();
  await signIn('alice', 'alice-Secret-4711');
  await page.goto(`${base}/account`);
  assert.match(await page.textContent('.balance'), /490\.000000 SDRt available, 10\.000000 SDRt in escrow/);
  await shot('14-home-account-after-sale');
  await signOut();
  console.log('browser story: ok');
} finally {
  await context.close();
}
