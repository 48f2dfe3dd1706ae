import { describe, expect, it } from 'vitest';
import type { Inventory, RequestSpec, VmEvent, VmRequest, VmRow } from '../../api/types';
import { applyVmEvents, daysBetween, nextAction, provisionPercent, quotaUse, sortForInbox, stateBadge, validateForm, waitsForDecision } from './model';

const form: RequestSpec = {
  name: 'build-01',
  template: 'debian-12',
  cpu: 2,
  memory_gb: 4,
  disk_gb: 40,
  network: '',
  folder: '',
  resource_pool: '',
  department: 'qa',
  purpose: 'CI runner',
  lease_end: '2026-12-31',
  snapshot_schedule: 'daily',
  customization_script: '',
};

describe('VM request form', () => {
  it('accepts a valid form', () => {
    expect(validateForm(form, '2026-12-01')).toEqual({});
  });
  it('flags each bad field with its message id', () => {
    const e = validateForm({ ...form, name: 'Build_01', cpu: 0, memory_gb: 999, department: 'QA team', purpose: ' ', lease_end: '2026-11-30' }, '2026-12-01');
    expect(e).toEqual({
      name: 'vms.form.err.name',
      cpu: 'vms.form.err.range',
      memory_gb: 'vms.form.err.range',
      department: 'vms.form.err.department',
      purpose: 'vms.form.err.required',
      lease_end: 'vms.form.err.past',
    });
    expect(validateForm({ ...form, lease_end: '2028-01-01' }, '2026-12-01').lease_end).toBe('vms.form.err.tooFar');
    expect(validateForm({ ...form, name: 'a-' }, '2026-12-01').name).toBe('vms.form.err.name');
  });
  it('counts days between ISO dates', () => {
    expect(daysBetween('2026-12-01', '2026-12-31')).toBe(30);
  });
});

describe('request states', () => {
  it('maps states to badges and next actions', () => {
    expect(stateBadge('provisioned')).toBe('ok');
    expect(stateBadge('failed')).toBe('error');
    expect(nextAction('pending_manager')).toBe('approve_manager');
    expect(nextAction('pending_admin')).toBe('approve_admin');
    expect(nextAction('approved')).toBe('provision');
    expect(nextAction('failed')).toBe('retry');
    expect(nextAction('provisioned')).toBeNull();
    // Being provisioned: nothing to do, unless the attempt was interrupted (then it resumes).
    expect(nextAction('provisioning')).toBeNull();
    expect(nextAction('provisioning', 'request r1 interrupted in step clone of VM a: …')).toBe('retry');
  });
  it('weights provisioning progress by step, the clone counting most', () => {
    expect(provisionPercent(null)).toBe(0);
    expect(provisionPercent({ request: 'r', step: 'lock', percent: 0 })).toBe(0);
    expect(provisionPercent({ request: 'r', step: 'clone', percent: 50 })).toBe(39);
    expect(provisionPercent({ request: 'r', step: 'guest', percent: 0 })).toBe(78);
    expect(provisionPercent({ request: 'r', step: 'snapshot', percent: 100 })).toBe(100);
  });
  it('puts requests waiting for action first', () => {
    const r = (id: string, state: VmRequest['state'], created_at: string, extensions: VmRequest['extensions'] = []) => ({ id, state, created_at, extensions }) as VmRequest;
    const sorted = sortForInbox([r('a', 'provisioned', '2026-12-03'), r('b', 'pending_admin', '2026-12-01'), r('c', 'approved', '2026-12-02')]);
    expect(sorted.map((x) => x.id)).toEqual(['c', 'b', 'a']);
    // A provisioned VM whose lease extension waits for the manager waits for a decision too.
    const ext = { n: 1, lease_end: '2027-01-31', reason: 'release', at: '2026-12-04', decision: null };
    const asked = r('d', 'provisioned', '2026-11-01', [{ ...ext, state: 'pending' }]);
    const decided = r('e', 'provisioned', '2026-11-02', [{ ...ext, state: 'approved' }]);
    expect(waitsForDecision(asked)).toBe(true);
    expect(waitsForDecision(decided)).toBe(false);
    expect(sortForInbox([decided, asked]).map((x) => x.id)).toEqual(['d', 'e']);
  });
  it('shows unlimited quotas without a fraction', () => {
    expect(quotaUse(3, 0)).toEqual({ text: '3 / ∞', fraction: null });
    expect(quotaUse(3, 4)).toEqual({ text: '3 / 4', fraction: 0.75 });
  });
});

describe('live VM events', () => {
  const vm = (id: string, power: string) => ({ id, name: id, power }) as VmRow;
  const inv = { vms: [vm('vm-1', 'poweredOn')], hosts: [], datastores: [], networks: [], folders: [], pools: [], computes: [], datacenters: [] } as Inventory;
  it('updates, adds and removes rows', () => {
    const off = applyVmEvents(inv, [{ kind: 'upsert', vm: vm('vm-1', 'poweredOff') }])!;
    expect(off.vms).toEqual([vm('vm-1', 'poweredOff')]);
    const added = applyVmEvents(off, [{ kind: 'upsert', vm: vm('vm-2', 'poweredOn') }])!;
    expect(added.vms.map((v) => v.id)).toEqual(['vm-1', 'vm-2']);
    expect(applyVmEvents(added, [{ kind: 'removed', id: 'vm-1' }])!.vms.map((v) => v.id)).toEqual(['vm-2']);
    expect(applyVmEvents(added, [{ kind: 'error', message: 'x' }])).toBe(added);
    expect(applyVmEvents(added, [])).toBe(added);
    expect(applyVmEvents(null, [{ kind: 'removed', id: 'vm-1' }])).toBeNull();
  });
  it('applies a batch in order, keeping each row in its place', () => {
    const batch: VmEvent[] = [
      { kind: 'upsert', vm: vm('vm-2', 'poweredOn') },
      { kind: 'upsert', vm: vm('vm-1', 'poweredOff') },
      { kind: 'removed', id: 'vm-2' },
      { kind: 'upsert', vm: vm('vm-3', 'poweredOn') },
      { kind: 'error', message: 'ignored' },
      { kind: 'upsert', vm: vm('vm-2', 'suspended') },
    ];
    expect(applyVmEvents(inv, batch)!.vms).toEqual([vm('vm-1', 'poweredOff'), vm('vm-3', 'poweredOn'), vm('vm-2', 'suspended')]);
  });
  it('takes the first batch of a large vCenter in one pass', () => {
    const all: VmEvent[] = Array.from({ length: 5000 }, (_, i) => ({ kind: 'upsert', vm: vm(`vm-${i + 1}`, 'poweredOn') }));
    const got = applyVmEvents(inv, all)!;
    expect(got.vms).toHaveLength(5000);
    expect(got.vms[0].id).toBe('vm-1');
    expect(got.vms[4999].id).toBe('vm-5000');
  });
});
