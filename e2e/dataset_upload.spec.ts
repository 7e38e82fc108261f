// Uploading data through the file chooser: a JSONL and a CSV file are parsed, counted, previewed and
// mapped; a malformed file shows each bad row with its line; HTML in a dataset renders as text.
import { expect, test } from '@playwright/test';
import { collectErrors, openPlayground, screenshot, uploadDataset } from './helpers/playground';

test('JSONL and CSV uploads, column mapping, line errors, and HTML shown as text', async ({ page }) => {
  const errors = collectErrors(page);
  await openPlayground(page);
  const status = page.getByTestId('dataset-status');

  // JSONL: 3 good rows, one bad JSON line, one row without an answer
  const jsonl = [
    '{"question": "2+2=", "answer": "4"}',
    '{"question": "3+5=", "answer": "8"}',
    '{"question": "10+1=", "answer": "11"',
    '{"question": "7+7="}',
    '{"question": "1+1=", "answer": "2"}',
  ].join('\n');
  await uploadDataset(page, 'math.jsonl', jsonl);
  await expect(status).toHaveAttribute('data-state', 'ready');
  await expect(page.getByTestId('rows-kept')).toHaveText('3');
  await expect(page.getByTestId('rows-invalid')).toHaveText('2');
  const issues = page.getByTestId('dataset-issues');
  await expect(issues).toContainText('line 3');
  await expect(issues).toContainText('line 4');
  await expect(issues.locator('.issue')).toHaveCount(2);
  await expect(page.getByTestId('map-prompt')).toHaveValue('question');
  await expect(page.getByTestId('dataset-preview')).toContainText('3+5=');
  await screenshot(page, 'dataset-jsonl');

  // CSV with a quoted comma and a multi-line field; then map the columns by hand
  const csv = 'id,problem,solution,note\n1,"Add 1, 2",3,first\n2,"Two\nlines",x,second\n3,Plain,ok,third\n';
  await uploadDataset(page, 'tasks.csv', csv, 'text/csv');
  await expect(status).toHaveAttribute('data-state', 'ready');
  await expect(page.getByTestId('rows-kept')).toHaveText('3');
  await expect(page.getByTestId('rows-invalid')).toHaveText('0');
  await expect(page.getByTestId('dataset-issues')).toHaveCount(0);
  const preview = page.getByTestId('dataset-preview');
  await expect(preview).toContainText('Add 1, 2');
  await expect(preview.locator('tbody tr').nth(1)).toContainText('Two\nlines');
  await expect(page.getByTestId('map-prompt')).toHaveValue('problem');
  await page.getByTestId('map-answer').selectOption('note');
  await expect(page.getByTestId('map-answer')).toHaveValue('note');
  await expect(preview.locator('tbody tr').first()).toContainText('first');

  // drag and drop onto the drop zone
  await page.getByTestId('dataset-drop').evaluate((zone) => {
    const dt = new DataTransfer();
    dt.items.add(new File(['prompt\tanswer\nhello\tworld\nfoo\tbar\n'], 'dropped.tsv', { type: 'text/tab-separated-values' }));
    zone.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
    zone.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  });
  await expect(page.getByTestId('dataset-drop')).toContainText('dropped.tsv');
  await expect(status).toHaveAttribute('data-state', 'ready');
  await expect(page.getByTestId('rows-kept')).toHaveText('2');
  await expect(preview).toContainText('hello');

  // a CSV row with the wrong number of fields names its line
  await uploadDataset(page, 'broken.csv', 'prompt,answer\na,1\nb,2,extra\nc,3\n', 'text/csv');
  await expect(page.getByTestId('dataset-issues')).toContainText('line 3');
  await expect(page.getByTestId('rows-kept')).toHaveText('2');

  // a file that is not a dataset at all
  await uploadDataset(page, 'empty.jsonl', '\n\n');
  await expect(status).toHaveAttribute('data-state', 'error');
  await expect(page.getByTestId('dataset-error')).toBeVisible();

  // HTML and script in the data are shown as text, never run
  const xss = [
    { prompt: '<img src=x onerror="window.__xss=1">', answer: '<script>window.__xss=2</script>' },
    { prompt: '<b>bold?</b>', answer: '"><svg onload="window.__xss=3">' },
  ]
    .map((r) => JSON.stringify(r))
    .join('\n');
  await uploadDataset(page, 'xss.jsonl', xss);
  await expect(status).toHaveAttribute('data-state', 'ready');
  await expect(preview).toContainText('<img src=x onerror="window.__xss=1">');
  await expect(preview).toContainText('<script>window.__xss=2</script>');
  await expect(preview.locator('img, script, svg, b')).toHaveCount(0);
  expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
  await screenshot(page, 'dataset-xss');
  expect(errors.filter((e) => !/tiny-puzzles|models\/|datasets\//.test(e))).toEqual([]);
});
