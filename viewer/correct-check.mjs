// Open a correction page (pipeline serve, /_correct/VOLUME/PAGE) in Chromium, wait for the line
// boxes over the deep-zoom image, type a new text into one line, Save, and print as JSON what
// the page showed and answered.
//
//   node correct-check.mjs --page URL --line N --text TEXT --screenshot FILE \
//        --chromium /usr/bin/chromium --profile DIR [--timeout-ms 60000]
//
// The caller (tests/integration/test_correct_browser.py) asserts on the result; this script
// only fails (exit 2) when it cannot drive the browser at all.
import { parseArgs, recordPage, run } from './browser.mjs';

async function main() {
  const args = parseArgs(process.argv.slice(2), ['line', 'text']);
  const result = { boxes: 0, overlays: 0, lowLines: 0, lowBoxes: 0, lines: 0, status: '' };
  await recordPage(args, result, async (page, quiet) => {
    await page.waitForSelector('body[data-boxes]');
    await page.locator('.openseadragon-canvas canvas').first().waitFor({ state: 'attached' });
    await quiet(700);
    result.boxes = Number(await page.getAttribute('body', 'data-boxes'));
    result.overlays = await page.locator('.openseadragon-container .box').count();
    result.lowBoxes = await page.locator('.openseadragon-container .box.low').count();
    result.lines = await page.locator('#lines input.text').count();
    result.lowLines = await page.locator('#lines li.low').count();
    const input = page.locator('#lines input.text').nth(Number(args.line));
    await input.click();
    result.current = await page.locator('.box.current').count();
    await input.fill(args.text);
    result.changed = await page.locator('#lines input.changed').count();
    await page.locator('#save').click();
    await page.waitForFunction(
      () => /^(saved|not saved)/.test(document.getElementById('status').textContent),
    );
    result.status = await page.locator('#status').textContent();
    await quiet(300);
  });
}

run(main);
