// What the viewer checks share: Chromium (playwright-core, the system's browser) with a page
// whose every response, failed request, page error and console error is recorded, and a wait
// for the network to go quiet. Each check script drives its viewer inside `recordPage`.
import { chromium } from 'playwright-core';

const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
];

// `--name value` pairs into an object; every name in `required` must be given.
export function parseArgs(argv, required) {
  const args = {};
  for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith('--')) throw new Error(`unexpected argument ${argv[i]}`);
    args[argv[i].slice(2)] = argv[i + 1];
  }
  for (const key of [...required, 'page', 'screenshot', 'chromium', 'profile']) {
    if (args[key] === undefined) throw new Error(`missing --${key}`);
  }
  return args;
}

// Resolves once no request has been in flight for `quietMs` (or after `timeoutMs`).
export function networkQuiet(inFlight, quietMs, timeoutMs) {
  return new Promise((resolve) => {
    const started = Date.now();
    let lastBusy = Date.now();
    const timer = setInterval(() => {
      if (inFlight.size > 0) lastBusy = Date.now();
      if (Date.now() - lastBusy >= quietMs || Date.now() - started > timeoutMs) {
        clearInterval(timer);
        resolve();
      }
    }, 50);
  });
}

// Open args.page, recording into `result` (errors, responses, failed), run `drive(page, quiet)`
// (quiet(ms) waits for the network to settle), screenshot, close, and print `result` as JSON.
export async function recordPage(args, result, drive) {
  const timeout = Number(args['timeout-ms'] || 60000);
  Object.assign(result, { errors: [], responses: [], failed: [], screenshot: args.screenshot });
  const context = await chromium.launchPersistentContext(args.profile, {
    executablePath: args.chromium,
    headless: true,
    args: FLAGS,
    viewport: { width: 1400, height: 900 },
  });
  const inFlight = new Set();
  try {
    const page = context.pages()[0] || await context.newPage();
    page.setDefaultTimeout(timeout);
    page.on('request', (req) => inFlight.add(req));
    page.on('requestfinished', (req) => inFlight.delete(req));
    page.on('requestfailed', (req) => {
      inFlight.delete(req);
      result.failed.push({ url: req.url(), error: req.failure()?.errorText ?? '' });
    });
    page.on('response', (res) => result.responses.push({ url: res.url(), status: res.status() }));
    page.on('pageerror', (err) => result.errors.push(`pageerror: ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error') result.errors.push(`console: ${msg.text()}`);
    });
    await page.goto(args.page, { waitUntil: 'load' });
    await drive(page, (quietMs) => networkQuiet(inFlight, quietMs, timeout));
    await page.screenshot({ path: args.screenshot, fullPage: false });
  } finally {
    await context.close();
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

// The entry point of a check script: exit 2 (with the stack) only when the browser could not
// be driven at all; what the viewer did is for the caller to judge from the JSON.
export function run(main) {
  main().catch((err) => {
    process.stderr.write(`${err.stack || err}\n`);
    process.exit(2);
  });
}
