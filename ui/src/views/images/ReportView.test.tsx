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
  const vulnerability = { package: 'libssl3', source: 'openssl', installed: '3.0', fixed: '3.1', ids: ['CVE-2026-1'], severity: 'CRITICAL' as const, summary: '', ecosystem: null, path: null, layer: null, fix_status: 'fixed' as const, severity_source: null, advisory_severity: null, fix_note: null };
  const suppression = { id: 'CVE-2026-1', package: null, image: null, reason: 'proxy terminates TLS', author: 'alice', expires: '2027-03-31' };
  render(<ReportView report={{ ...base, decision: 'ALLOW', outcome: 'assessed', not_assessed: [], suppressed: [{ vulnerability, suppression }] }} scanId={null} />, document.body);
  expect(document.querySelector('[data-testid=scan-decision]')?.className).toContain('img-decision-allow');
  expect(document.querySelector('[data-testid=scan-not-assessed]')).toBeNull();
  const row = document.querySelector('[data-testid=scan-suppressed-row]');
  expect(row?.textContent).toContain('proxy terminates TLS');
  expect(row?.textContent).toContain('alice');
  expect(row?.querySelector('[data-testid=suppression-until]')?.textContent).toBe('until 2027-03-31');
  expect(row?.querySelector('[data-testid=suppression-scope]')?.textContent).toBe('any image');
  expect(document.querySelector('[data-testid=scan-expired]')).toBeNull();
});

it('an expired suppression is listed open, as expired, with its scope; an OpenVEX one has no expiry', () => {
  const vulnerability = { package: 'zlib', source: null, installed: '1.3.1-r1', fixed: '1.3.1-r2', ids: ['ALPINE-CVE-2023-45853', 'CVE-2023-45853'], severity: 'HIGH' as const, summary: '', ecosystem: null, path: null, layer: null, fix_status: 'fixed' as const, severity_source: null, advisory_severity: null, fix_note: null };
  const expired = { id: 'CVE-2023-45853', package: 'zlib', image: 'app:*', reason: 'minizip is not built', author: 'bob', expires: '2026-01-31' };
  const vex = { id: 'CVE-2024-5535', package: null, image: 'pkg:oci/app', reason: 'OpenVEX not_affected: vulnerable_code_not_in_execute_path', author: 'sec-team', expires: '' };
  const live = { ...vulnerability, package: 'libssl3', ids: ['CVE-2024-5535'], severity: 'CRITICAL' as const };
  render(<ReportView report={{ ...base, decision: 'WARN', outcome: 'assessed', not_assessed: [], vulnerabilities: [vulnerability], expired_suppressions: [{ vulnerability, suppression: expired }], suppressed: [{ vulnerability: live, suppression: vex }] }} scanId={null} />, document.body);
  const section = document.querySelector<HTMLDetailsElement>('[data-testid=scan-expired]');
  expect(section?.open).toBe(true);
  expect(section?.textContent).toContain('counted again');
  const row = section?.querySelector('[data-testid=scan-expired-row]');
  expect(row?.textContent).toContain('CVE-2023-45853');
  expect(row?.querySelector('[data-testid=suppression-until]')?.textContent).toBe('expired 2026-01-31');
  expect(row?.querySelector('[data-testid=suppression-scope]')?.textContent).toBe('package zlib · images app:*');
  const vexRow = document.querySelector('[data-testid=scan-suppressed-row]');
  expect(vexRow?.querySelector('[data-testid=suppression-until]')?.textContent).toBe('no expiry (OpenVEX)');
});

it('findings show their file and layer; the layer filter keeps your layers or the base image', async () => {
  const layer = (index: number, isBase: boolean, created_by: string) => ({ index, digest: `sha256:${index}`, created_by, base: isBase });
  const finding = (id: string, pkg: string, path: string, l: ReturnType<typeof layer>) => ({
    package: pkg, source: null, installed: '1.0', fixed: '2.0', ids: [id], severity: 'HIGH' as const, summary: '', ecosystem: 'PyPI', path, layer: l,
    fix_status: 'fixed' as const, severity_source: null, advisory_severity: null, fix_note: null,
  });
  const baseLayer = layer(1, true, 'COPY dir:ab in /usr/lib/python3/site-packages/');
  const ownLayer = layer(2, false, 'COPY dir:cd in /srv/app/');
  const report: ScanReport = {
    ...base,
    decision: 'WARN',
    outcome: 'assessed',
    not_assessed: [],
    layers: [
      { digest: 'sha256:0', from_cache: false, created_by: 'ADD file:0 in /', base: true },
      { digest: 'sha256:1', from_cache: false, created_by: baseLayer.created_by, base: true },
      { digest: 'sha256:2', from_cache: false, created_by: ownLayer.created_by, base: false },
    ],
    vulnerabilities: [
      finding('GHSA-base', 'urllib3', 'usr/lib/python3/site-packages/urllib3-1.0.dist-info/METADATA', baseLayer),
      finding('GHSA-own', 'requests', 'srv/app/requests-1.0.dist-info/METADATA', ownLayer),
    ],
  };
  render(<ReportView report={report} scanId={null} />, document.body);
  const rows = () => [...document.querySelectorAll('[data-testid=scan-vuln-row]')].map((r) => r.getAttribute('data-id'));
  expect(rows().sort()).toEqual(['GHSA-base', 'GHSA-own']);
  const own = document.querySelector('[data-testid=scan-vuln-row][data-id=GHSA-own]');
  expect(own?.textContent).toContain('/srv/app/requests-1.0.dist-info/METADATA');
  expect(own?.textContent).toContain('COPY dir:cd in /srv/app/');
  expect(own?.querySelector('[data-testid=scan-layer-cell]')?.getAttribute('data-base')).toBe('false');
  const select = document.querySelector('[data-testid=scan-layer-scope]') as HTMLSelectElement;
  select.value = 'ours';
  select.dispatchEvent(new Event('change'));
  await new Promise((r) => setTimeout(r, 0));
  expect(rows()).toEqual(['GHSA-own']);
  select.value = 'base';
  select.dispatchEvent(new Event('change'));
  await new Promise((r) => setTimeout(r, 0));
  expect(rows()).toEqual(['GHSA-base']);
});

it("a distribution's severity is named, and a won't-fix finding says so with the record's words", () => {
  const v = {
    package: 'zlib1g', source: 'zlib', installed: '1:1.2.13.dfsg-1', fixed: null, ids: ['DEBIAN-CVE-2023-45853', 'CVE-2023-45853'], severity: 'LOW' as const,
    summary: '', ecosystem: null, path: null, layer: null, fix_status: 'wont_fix' as const, severity_source: 'Debian urgency', advisory_severity: 'CRITICAL' as const,
    fix_note: 'no-dsa: ignored',
  };
  render(<ReportView report={{ ...base, decision: 'WARN', outcome: 'assessed', not_assessed: [], vulnerabilities: [v] }} scanId={null} />, document.body);
  const row = document.querySelector('[data-testid=scan-vuln-row]');
  expect(row?.textContent).toContain('Debian urgency');
  expect(row?.querySelector('[data-testid=fix-wont]')?.getAttribute('title')).toBe('no-dsa: ignored');
  expect(row?.textContent).toContain("won't fix");
});
