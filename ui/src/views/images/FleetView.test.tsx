// @vitest-environment jsdom
// The Fleet: every scanned image's newest decision, NOT ASSESSED on its own
// (red), filtered by decision, sorted worst first, a row opens its report;
// the latest re-match note and the kept notes of what updates changed.
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { render } from 'preact';
import { afterEach, expect, it } from 'vitest';
import type { FleetImage, RematchNote } from '../../api/types';
import { flush, waitFor } from '../../util/renderHook';
import { filterByStatus, fleetStatus, statusCounts } from './fleet';
import { FleetView } from './FleetView';

afterEach(() => {
  render(null, document.body);
  clearMocks();
});

const row = (image: string, decision: FleetImage['decision'], not_assessed = false, extra: Partial<FleetImage> = {}): FleetImage => ({
  scan_id: image.length,
  connection_id: null,
  image,
  image_id: `sha256:${image}`,
  tags: [image],
  decision,
  not_assessed,
  counts: { critical: 0, high: 0, medium: 0, low: 0, unknown: 0 },
  suppressed: 0,
  expired_suppressions: 0,
  scanned_at: '2026-12-05T05:00:00Z',
  advisories_as_of: '2026-12-01T00:00:00Z',
  ...extra,
});

const FLEET: FleetImage[] = [
  row('web:2', 'ALLOW'),
  row('app:1.4', 'BLOCK', false, { counts: { critical: 2, high: 1, medium: 0, low: 0, unknown: 0 }, suppressed: 1, expired_suppressions: 1 }),
  row('scratch-go:1', 'WARN', true, { advisories_as_of: null }),
  row('api:3', 'WARN'),
];

const NOTE: RematchNote = {
  at: '2026-12-05T05:10:00Z',
  cause: 'advisories imported from /srv/osv.zip (3 records)',
  images: 4,
  skipped: 0,
  changed: ['app:1.4: WARN → BLOCK'],
  changes: [
    { image: 'app:1.4', image_id: 'sha256:app', before: 'WARN', after: 'BLOCK', before_not_assessed: false, after_not_assessed: false, new_findings: ['CVE-2024-1'], fixed_findings: [], new_not_assessed: [] },
    { image: 'web:2', image_id: 'sha256:web', before: 'WARN', after: 'ALLOW', before_not_assessed: false, after_not_assessed: false, new_findings: [], fixed_findings: ['CVE-2023-9'], new_not_assessed: [] },
    { image: 'scratch-go:1', image_id: 'sha256:go', before: 'ALLOW', after: 'WARN', before_not_assessed: false, after_not_assessed: true, new_findings: [], fixed_findings: [], new_not_assessed: ['no advisories loaded for Go'] },
  ],
};

it('derives the status and counts per decision, not assessed on its own', () => {
  expect(FLEET.map(fleetStatus)).toEqual(['ALLOW', 'BLOCK', 'NOT_ASSESSED', 'WARN']);
  expect(statusCounts(FLEET)).toEqual({ BLOCK: 1, NOT_ASSESSED: 1, WARN: 1, ALLOW: 1 });
  expect(filterByStatus(FLEET, new Set(['WARN', 'NOT_ASSESSED'])).map((r) => r.image)).toEqual(['scratch-go:1', 'api:3']);
  expect(filterByStatus(FLEET, new Set())).toHaveLength(4);
});

it('lists the fleet worst first, filters by decision, opens a report, and shows what the last update changed', async () => {
  const calls: string[] = [];
  mockIPC((cmd) => {
    calls.push(cmd);
    if (cmd === 'images_fleet') return FLEET;
    if (cmd === 'images_rematch_notes') return [NOTE];
    return null;
  });
  const opened: [number, string][] = [];
  let scanAll = 0;
  render(<FleetView version={0} language="en" scanning={false} onScanAll={() => scanAll++} onOpen={(id, image) => opened.push([id, image])} />, document.body);
  const rows = () => [...document.querySelectorAll<HTMLElement>('[data-testid=fleet-row]')];
  await waitFor(() => rows().length > 0);
  expect(rows().map((r) => r.dataset.status)).toEqual(['BLOCK', 'NOT_ASSESSED', 'WARN', 'ALLOW']);
  const na = rows()[1];
  expect(na.textContent).toContain('NOT ASSESSED');
  expect(na.querySelector('.badge')?.className).toContain('badge-error');
  expect(rows()[0].textContent).toContain('app:1.4');

  // Filter: WARN only, then WARN + BLOCK.
  document.querySelector<HTMLButtonElement>('[data-testid=fleet-filter-WARN]')!.click();
  await flush();
  expect(rows().map((r) => r.dataset.image)).toEqual(['api:3']);
  expect(document.querySelector('[data-testid=fleet-filter-WARN]')?.getAttribute('aria-pressed')).toBe('true');
  document.querySelector<HTMLButtonElement>('[data-testid=fleet-filter-BLOCK]')!.click();
  await flush();
  expect(rows().map((r) => r.dataset.image)).toEqual(['app:1.4', 'api:3']);

  // Keyboard: Enter on a focused row opens its report.
  rows()[0].focus();
  rows()[0].dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }));
  await flush();
  expect(opened).toEqual([[7, 'app:1.4']]);

  document.querySelector<HTMLButtonElement>('[data-testid=fleet-scan-all]')!.click();
  expect(scanAll).toBe(1);

  // The last update's note, and all kept notes with each image's change.
  expect(document.querySelector('[data-testid=fleet-latest-note]')?.textContent).toContain('3 images changed');
  document.querySelector<HTMLButtonElement>('[data-testid=fleet-notes-open]')!.click();
  await flush();
  const changes = [...document.querySelectorAll<HTMLElement>('[data-testid=rematch-change]')];
  expect(changes.map((c) => [c.dataset.image, c.dataset.before, c.dataset.after])).toEqual([
    ['app:1.4', 'WARN', 'BLOCK'],
    ['web:2', 'WARN', 'ALLOW'],
    ['scratch-go:1', 'ALLOW', 'NOT_ASSESSED'],
  ]);
  expect(changes[0].textContent).toContain('new: CVE-2024-1');
  expect(changes[1].textContent).toContain('fixed: CVE-2023-9');
  expect(changes[2].textContent).toContain('now not assessed: no advisories loaded for Go');
  expect(document.querySelector('[data-testid=rematch-head]')?.textContent).toBe('3 images changed (4 re-matched, 0 need a new scan)');
  expect(calls).toEqual(expect.arrayContaining(['images_fleet', 'images_rematch_notes']));
});

it('a scan in progress disables Scan all; an empty fleet says how to start', async () => {
  mockIPC((cmd) => (cmd === 'images_fleet' || cmd === 'images_rematch_notes' ? [] : null));
  render(<FleetView version={0} language="en" scanning onScanAll={() => {}} onOpen={() => {}} />, document.body);
  await waitFor(() => document.body.textContent?.includes('No image scanned yet'));
  expect(document.querySelector<HTMLButtonElement>('[data-testid=fleet-scan-all]')?.disabled).toBe(true);
  expect(document.body.textContent).toContain('No image scanned yet');
  expect(document.querySelector('[data-testid=fleet-latest-note]')).toBeNull();
});
