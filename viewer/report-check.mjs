// Open a volume's run report (report.html, from the file system as staff open it) in Chromium
// and print its contact sheet as JSON on stdout: each page's figure id, whether its thumbnail
// decoded, and the flags it shows, besides every response, failed request and page error.
//
//   node report-check.mjs --page file:///.../vol.html --screenshot FILE \
//        --chromium /usr/bin/chromium --profile DIR [--timeout-ms 60000]
//
// The caller (tests/integration/test_contact_sheet.py) asserts on the result; this script only
// fails (exit 2) when it cannot drive the browser at all.
import { parseArgs, recordPage, run } from './browser.mjs';

async function main() {
  const args = parseArgs(process.argv.slice(2), []);
  const result = { pages: [] };
  await recordPage(args, result, async (page, quiet) => {
    await quiet(500);
    result.pages = await page.locator('.sheet figure').evaluateAll((figures) => figures.map(
      (f) => {
        const img = f.querySelector('img');
        return {
          id: f.id,
          flagged: f.classList.contains('flagged'),
          loaded: Boolean(img && img.complete && img.naturalWidth > 0),
          flags: [...f.querySelectorAll('.flag')].map((s) => s.textContent),
          caption: f.querySelector('figcaption').innerText,
        };
      },
    ));
  });
}

run(main);
