// @vitest-environment jsdom
// A scan that could not assess the image says so in red with its reasons;
// suppressed findings are listed with their reason.
import { render } from 'preact';
import { afterEach, expect, it } from 'vitest';
import type { ScanReport } from '../../api/types';
import { ReportView } from './ReportView';

afterEach(() => render(null, document.body));

const base: ScanReport = {
  image: 'app:1',
  image_id: 'sha256:1',
  repo_tags: ['app:1'],
  repo_digests: [],
  created: null,
  size: null,
  os: null,
  config: { user: '1000', healthcheck: ['CMD', 'true'], labels: {} },
  layers: [],
  packages: [],
  ecosystem: null,
  vulnerabilities: [],
  counts: { critical: 0, high: 0, medium: 0, low: 0, unknown: 0 },
  risk_score: 0,
  risk_level: 'NONE',
  violations: [],
  decision: 'WARN',
  outcome: 'not_assessed',
  not_assessed: ['no package database found (dpkg, apk or rpm): the image\'s packages are unknown'],
  suppressed: [],
  expired_suppressions: [],
  excluded: [],
  notes: [],
  scanned_at: '2026-12-04T21:00:00Z',
  duration_ms: 5,
};

it('shows a not-assessed scan in red with its reasons', () => {
  render(<ReportView report={base} scanId={null} />, document.body);
  const decision = document.querySelector('[data-testid=scan-decision]');
  expect(decision?.className).toContain('img-decision-not-assessed');
  expect(decision?.getAttribute('data-outcome')).toBe('not_assessed');
  expect(decision?.textContent).toContain('NOT ASSESSED');
  expect(document.querySelector('[data-testid=scan-not-assessed]')?.textContent).toContain('no package database found');
});

it('an assessed scan has no not-assessed banner; suppressions are listed with their reason', () => {
  const vulnerability = { package: 'libssl3', source: 'openssl', installed: '3.0', fixed: '3.1', ids: ['CVE-2026-1'], severity: 'CRITICAL' as const, summary: '' };
  const suppression = { id: 'CVE-2026-1', package: null, image: null, reason: 'proxy terminates TLS', author: 'alice', expires: '2027-03-31' };
  render(<ReportView report={{ ...base, decision: 'ALLOW', outcome: 'assessed', not_assessed: [], suppressed: [{ vulnerability, suppression }] }} scanId={null} />, document.body);
  expect(document.querySelector('[data-testid=scan-decision]')?.className).toContain('img-decision-allow');
  expect(document.querySelector('[data-testid=scan-not-assessed]')).toBeNull();
  expect(document.querySelector('[data-testid=scan-suppressed]')?.textContent).toContain('proxy terminates TLS — alice, until 2027-03-31');
});
